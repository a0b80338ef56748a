"""Customer-voice rewrites of a template question: how people actually type into a chat box.

The fact templates ask like a form ("What is the monthly fee for Everyday Checking?"). Customers
write "whats the monthly charge on everyday checking", misspell words, open with their situation
and use the bank's words loosely. A model tuned only on the form-like questions learned to refuse
the loose ones even with the answer in its passage (docs/finetune.md, runs 4 and 5), so every
split mixes in these rewrites: answerable and unanswerable questions alike, so that loose wording
is never itself a cue to refuse. Deterministic for a given random.Random.
"""

from __future__ import annotations

import random
import re

# Loose synonyms a customer uses for the knowledge base's words (both directions are fine: the
# passage keeps its own wording, so the model learns to match meaning, not tokens).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "fee": ("charge", "cost"), "fees": ("charges", "costs"), "minimum": ("min", "lowest"),
    "maximum": ("max", "most"), "limit": ("cap", "max"), "limits": ("caps", "maximums"),
    "account": ("acct", "acount"), "accounts": ("accts",), "transfer": ("transfr", "xfer"),
    "transfers": ("payments", "xfers"), "international": ("overseas", "abroad"),
    "replacement": ("new", "replacing"), "withdrawal": ("withdrawl", "withdraw"),
"checking": ("chequing", "current account"),
    "savings": ("saving", "savings acct"), "certificate of deposit": ("cd",), "debit card": ("bank card", "debit"),
    "credit card": ("cc", "credit"), "interest rate": ("rate", "interest"), "annual percentage yield": ("apy",),
    "mortgage": ("home loan",), "branch": ("location", "office"), "hours": ("opening times", "open hours"),
    "how long": ("how many days", "how soon"), "receive": ("get",), "required": ("needed",),
    "request": ("ask for",), "cancel": ("call off", "cancell"), "dispute": ("challenge", "contest"),
    "unauthorized": ("fraudulent", "unauthorised"), "statement": ("bill", "monthly statement"),
    "overdraft": ("overdraw", "going negative"), "available": ("usable", "cleared"),
    "please": ("pls", "plz"), "you": ("u",), "your": ("ur", "yr"), "what is": ("whats", "what's"),
    "what are": ("whats", "what r"), "do i": ("do u", "should i"), "can i": ("am i able to", "can u"),
}
_SYN_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, SYNONYMS), key=len, reverse=True)) + r")\b", re.I)
LEADS = (
    "hi, ", "hey ", "quick question: ", "so ", "hello, i was wondering ", "um ", "ok so ", "can someone tell me ",
    "sorry if this is a dumb question but ", "i'm on my phone, ", "my friend said something different, ",
    "before i go to the branch: ", "need help - ", "good morning! ",
)
TAILS = ("", " thanks", " thx", " pls", "??", " asap", " ty", "...", " - thanks in advance")
_FUNCTION_WORDS = {"what", "is", "are", "the", "a", "an", "for", "of", "how", "much", "does", "do", "could", "you",
                   "tell", "me", "i'd", "like", "to", "know", "can", "please", "about", "should", "i"}
_WORD = re.compile(r"[A-Za-z]{5,}")


def _typo(text: str, rng: random.Random) -> str:
    """One misspelt word: swapped, dropped or doubled letter inside a word of five letters or more."""
    words = list(_WORD.finditer(text))
    if not words:
        return text
    m = rng.choice(words)
    w = m.group(0)
    i = rng.randrange(1, len(w) - 2)
    op = rng.choice(("swap", "drop", "double"))
    if op == "swap":
        w2 = w[:i] + w[i + 1] + w[i] + w[i + 2:]
    elif op == "drop":
        w2 = w[:i] + w[i + 1:]
    else:
        w2 = w[:i] + w[i] + w[i:]
    return text[: m.start()] + w2 + text[m.end():]


def _synonym(text: str, rng: random.Random) -> str:
    found = list(_SYN_RE.finditer(text))
    if not found:
        return text
    m = rng.choice(found)
    return text[: m.start()] + rng.choice(SYNONYMS[m.group(0).lower()]) + text[m.end():]


def _keywords(text: str) -> str:
    """'What is the monthly fee for Everyday Checking?' -> 'monthly fee everyday checking?'"""
    kept = [w for w in re.findall(r"[\w$%'.-]+", text) if w.lower().strip(".") not in _FUNCTION_WORDS]
    return " ".join(kept).strip(" .") + "?" if len(kept) >= 2 else text


def informal(question: str, rng: random.Random) -> str:
    """A loose, chat-box version of `question`; never the question itself. Figures stay as they are."""
    q = question.strip()
    for _ in range(4):
        out = _keywords(q) if rng.random() < 0.2 else q
        for _ in range(rng.choice((1, 1, 2))):
            out = _synonym(out, rng)
        if rng.random() < 0.7:
            out = out.lower()
        if rng.random() < 0.5:
            out = _typo(out, rng)
        if rng.random() < 0.5:
            out = out.rstrip("?.!")
        if rng.random() < 0.4:
            out = rng.choice(LEADS) + (out[:1].lower() + out[1:])
        if rng.random() < 0.3:
            out = out + rng.choice(TAILS)
        out = " ".join(out.split())
        if out and out != q:
            return out
    return q.lower().rstrip("?") if q.lower().rstrip("?") != q else q + "??"
