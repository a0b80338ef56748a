"""History-aware retrieval queries: make a follow-up stand on its own.

"What's the monthly fee for checking?" then "and for savings accounts?" becomes
"monthly fee for savings accounts". A model-based rewrite would cost a second of CPU per
turn; this rule keeps what the customer asked about (the attribute) and swaps the subject.
A message that names nothing ("up to what amount?", "why?") is read with the conversation's
subject (assistant/core/subjects.py): the latest earlier question that named one, in its own
standalone reading ("and for savings?" -> "monthly fee for savings").
"""

from __future__ import annotations

import re

from assistant.core.subjects import names_nothing, own_words

_LEADIN = re.compile(
    r"^\s*(?:(?:and|also|ok(?:ay)?|so|then|but)\s*)?(?:what|how)\s+about\s+|^\s*(?:and|also|plus)\s+(?:(?:for|with|on|if|the)\s*)?|^\s*(?:for|with)\s+"
    # "same question for premier checking", "is it the same for a car loan?", "does the same go for wires?"
    r"|^\s*(?:(?:and|so|ok(?:ay)?)[,\s]+)?(?:(?:is|would|will|does)\s+(?:it|that|this)\s+(?:be\s+)?)?(?:does\s+)?(?:the\s+)?same\s+"
    r"(?:(?:question|thing|answer|goes|go|applies|apply)\s+)?(?:for|with|on|to)\s+(?:the\s+)?",
    re.I,
)
_PRONOUN = re.compile(r"\b(it|that|this|those|these|them|there|one)\b", re.I)
_REFERRING = re.compile(r"\b(it|that|this|those|these|them|they|there|one|ones)\b", re.I)
# "and ...", "ok and once i ask, ...", "so what if ...": a message that opens by continuing the last one
_CONTINUING = re.compile(r"^\s*(?:(?:ok(?:ay)?|alright|right|well)[,.!\s]+)?(?:and|also|so|but|then|what if|what about)\b", re.I)
# Words naming what is being asked about, as opposed to which product it is asked about.
ATTRIBUTES = (
    "monthly fee", "annual fee", "late fee", "overdraft fee", "foreign transaction fee", "wire fee",
    "fee", "fees", "cost", "charge", "rate", "rates", "apy", "apr", "interest", "limit", "limits",
    "minimum balance", "minimum deposit", "minimum opening deposit", "minimum", "maximum", "penalty",
    "cut-off time", "cutoff", "deadline", "how long", "how many days", "hours", "requirements",
    "documents", "insured", "insurance", "term", "terms", "liability", "waive", "waived",
)
SUBJECT_WORDS = 4  # "and for savings accounts?", "what about international ones?": a subject swap names a thing in a few words
_ATTR_RE = re.compile(r"\b(" + "|".join(re.escape(a) for a in ATTRIBUTES) + r")\b", re.I)


def is_follow_up(text: str) -> bool:
    words = text.split()
    if _LEADIN.match(text):
        return True
    return len(words) <= 6 and bool(_PRONOUN.search(text))


def swaps_subject(text: str) -> bool:
    """A lead-in and a new subject in a few words ("and for savings?", "is it the same for a car loan?"):
    the attribute is the conversation's, the subject is not, so the last reply's documents must not lead."""
    if not _LEADIN.match(text):
        return False
    rest = _LEADIN.sub("", text).strip(" ?.!")
    return 0 < len(rest.split()) <= SUBJECT_WORDS and bool(own_words(rest))


def continues(text: str) -> bool:
    """A message that opens by continuing the last one: "and ...", "so what if ...", "ok and once i ask, ..."."""
    return bool(_CONTINUING.match(text))


def refers_back(text: str) -> bool:
    """A message that may lean on the conversation ("what if i only noticed it missing after a
    couple of weeks?"), though too long for `is_follow_up`'s rewrite: retrieval tries it
    with the previous question too and keeps whichever finds the better passage."""
    words = len(text.split())
    return (words <= 20 and bool(_CONTINUING.match(text))) or (words <= 12 and bool(_REFERRING.search(text)))


def with_previous(text: str, previous_question: str) -> str:
    return f"{text.rstrip('?')} ({previous_question.rstrip('?')})"


def subject_of(previous_questions: list[str]) -> str | None:
    """The conversation's subject: the latest earlier question that named something, read as it was
    then ("and for savings?" after "monthly fee for checking?" -> "monthly fee for savings")."""
    for i in range(len(previous_questions) - 1, -1, -1):
        if own_words(previous_questions[i]) and not names_nothing(previous_questions[i]):
            return rewrite_query(previous_questions[i], previous_questions[:i])
    return None


def rewrite_query(text: str, previous_questions: list[str], *, elliptic: bool = False) -> str:
    """The retrieval query for this turn given the customer's earlier questions (newest last); `elliptic`:
    the message is known to name nothing of its own ("sorry, I'm lost": assistant/core/explain_requests.py)."""
    prev = subject_of(previous_questions) if previous_questions else None
    if prev is None:
        return text
    if elliptic or names_nothing(text):
        # "up to what amount?", "what do I do now?": the subject is the conversation's
        return with_previous(text, prev)
    if not is_follow_up(text):
        return text
    rest = _LEADIN.sub("", text).strip(" ?.!")
    if _PRONOUN.search(text) and not _LEADIN.match(text):
        # "how do I activate it?" -> the subject is the previous question's
        return with_previous(text, prev)
    if len(rest.split()) > SUBJECT_WORDS:
        # not a new subject but a new condition ("what about people who already had an account
        # back then?"): the previous question's attribute ("fees") would lead the search astray
        return with_previous(rest, prev)
    attrs: list[str] = []
    for a in _ATTR_RE.findall(prev):
        if a.lower() not in (x.lower() for x in attrs) and not re.search(rf"\b{re.escape(a)}\b", rest, re.I):
            attrs.append(a.lower())
    if attrs:
        return f"{' '.join(attrs)} for {rest}"
    return with_previous(rest, prev)
