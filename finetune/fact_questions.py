"""The questions a fact answers, phrased from its sentence, bullet or condition.

A sentence with a plain subject and a figure ("The minimum deposit to open a Larkspur CD is $500.")
gives "What is the minimum deposit to open a Larkspur CD?"; any other sentence is asked about by its
section heading.
"""

from __future__ import annotations

import re

# "The minimum deposit to open a Larkspur CD is $500." -> subject "The minimum deposit ...", verb "is"
_SUBJECT = re.compile(
    r"^(?:At Larkspur(?: Bank)?, )?(?P<subj>(?:The |A |An |Your |Larkspur(?: Bank)?(?:'s)? )?[A-Za-z][^,;:.()\d]{4,70}?) "
    r"(?P<verb>is|are|costs|cost|takes|take)\s(?P<obj>.*\d.*)$"
)

# A subject holding one of these is a clause ("Checking has no fee while the owner is ..."), not a noun phrase.
_CLAUSE_WORDS = {"has", "have", "had", "will", "can", "may", "must", "pays", "pay", "is", "are", "was", "were",
                 "does", "do", "if", "when", "while", "which", "that", "who", "unless", "after", "before"}
_ARTICLES = {"the", "a", "an", "your"}
_OPENERS = {"because", "if", "when", "since", "although", "for", "to", "after", "before", "under", "once", "as", "with"}
_VALUE_START = re.compile(r"(?:\$|\d|(?:up to|from|about|at least|at most|one|two|three|five|ten|the|a|an)\b)", re.I)


def lc_first(s: str) -> str:
    """Lower-case a leading word unless it starts a name ("Apple Pay", "Regulation Z", "CD")."""
    words = s.split(" ")
    first = words[0]
    named = len(words) > 1 and words[1][:1].isupper()
    keep = named or first.startswith("Larkspur") or (len(first) > 1 and first[1:].lower() != first[1:])
    return s if keep else s[:1].lower() + s[1:]


def sentence_questions(sentence: str, topic: str, section: str) -> tuple[list[str], bool]:
    """Questions a sentence answers; True when they come from the sentence itself, not its heading."""
    m = _SUBJECT.match(sentence)
    words = m["subj"].lower().split() if m else []
    if words and words[0] in _ARTICLES:
        words = words[1:]
    if m and len(words) >= 3 and not set(words) & _CLAUSE_WORDS and words[0] not in _OPENERS:
        subj, verb = lc_first(m["subj"].strip()), m["verb"]
        if subj.split(" ", 1)[0] in ("The", "A", "An", "Your"):
            subj = subj[:1].lower() + subj[1:]
        if verb in ("is", "are") and not _VALUE_START.match(m["obj"]):
            plain = f"{topic}: what about {subj}?"  # "X is available in 200 languages": no "what is X"
            return [plain, f"Tell me about {subj}.", f"what about {subj.lower()}"], True
        if verb in ("is", "are"):
            plain = f"What {verb} {subj}?"
            embedded = f"what {subj} {verb}"
        elif verb in ("costs", "cost"):
            aux = "does" if verb == "costs" else "do"
            plain, embedded = f"How much {aux} {subj} cost?", f"how much {subj} {verb}"
        else:
            aux = "does" if verb == "takes" else "do"
            plain, embedded = f"How long {aux} {subj} take?", f"how long {subj} {verb}"
        return [plain, f"Could you tell me {embedded}?", plain.lower().rstrip("?"), f"I'd like to know {embedded}."], True
    heading = lc_first(section)
    return [
        f"What should I know about {heading} for {lc_first(topic)}?",
        f"{topic}: {heading}?",
        f"Can you tell me about {heading} ({lc_first(topic)})?",
    ], False


def bullet_questions(label: str, value: str, section: str, topic: str) -> list[str]:
    lab, sec = lc_first(label), lc_first(section) if section else lc_first(topic)
    qs = [f"What are the {sec} for {lab}?" if sec.endswith("s") else f"What is the {sec} for {lab}?",
          f"{label} - {sec}?"]
    if "$" in value:
        qs.append(f"How much is it for {lab} ({lc_first(topic)})?")
    elif "%" in value:
        qs.append(f"What rate applies to {lab}?")
    else:
        qs.append(f"{topic}: what about {lab}?")
    qs.append(f"tell me the {sec} for {lab} please")
    return qs


def condition_questions(charge: str, topic: str) -> list[str]:
    """Questions that name what the customer wants (no charge), not the label the passage uses."""
    t = lc_first(topic)
    return [f"How do I avoid the {charge} on {t}?", f"How can I get the {charge} waived for {t}?",
            f"what do i have to do so i don't pay the {charge} on {t}", f"Is there a way to not be charged the {charge} ({t})?",
            f"do I qualify for no {charge} on {t}?"]
