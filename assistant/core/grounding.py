"""The grounding guard and the extractive, cited fallback answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.core.events import Citation
from assistant.llm.prompts import EXTRACTIVE_LEAD
from knowledge_base import Passage
from knowledge_base.figures import answer_figures, figures, unsupported_figures
from knowledge_base.retriever import tokenize
from knowledge_base.sentences import sentences, under


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    ok: bool
    unsupported: tuple[str, ...] = ()


# "one" that counts nothing: "no one", "one of our agents", "this one".
_PRONOUN_ONE = re.compile(r"\b(?:no|any|every|each|the|this|that|which|some)\s{1,3}one\b|\bone\s{1,3}(?:of|another)\b", re.I)


def check_reply(reply: str, passages: list[Passage]) -> GuardVerdict:
    """Every figure of the reply (digits or number words: "$30", "thirteen", "one free wire") is stated
    by a passage's text or title. The streaming guard checks each sentence; this checks the whole reply
    once more before it is stored and sent."""
    missing = unsupported_figures(_PRONOUN_ONE.sub(" ", reply), [p.text for p in passages] + [p.title for p in passages])
    return GuardVerdict(ok=not missing, unsupported=tuple(missing))


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def grafted_terms(reply: str, question: str, passages: list[Passage]) -> set[str]:
    """Words of the customer's question that the reply repeats but no passage states.

    The figure guard cannot see a product grafted onto a passage about another one: asked "how do I
    apply for an SBA loan through larkspur", Qwen 0.5B answered "Apply for a Larkspur SBA loan at
    larkspurbank.example ..." from the personal-loan passage. The bank offers no SBA loans.
    """
    asked = {_stem(w) for w in tokenize(question) if w.isalpha()}
    said = {_stem(w) for w in tokenize(reply) if w.isalpha()}
    known = {_stem(w) for p in passages for w in tokenize(f"{p.title} {p.section} {p.text}")}
    return (asked & said) - known


# The tuned model's refusals and agent offers (finetune/prompts.py: DONT_KNOW_VARIANTS, HANDOFF_ANSWERS).
_DECLINES = re.compile(r"\b(?:don'?t|do not) have (?:that|this|the|any) information\b|\bconnect you (?:with|to) (?:an|one of our) agents?\b", re.I)


def declines(reply: str) -> bool:
    """The reply says the model has no answer, or only offers an agent: no figure, a few sentences at most."""
    return bool(_DECLINES.search(reply)) and not figures(reply) and len(reply.split()) <= 40


def citation_for(p: Passage, snippet_chars: int = 240) -> Citation:
    snippet = " ".join(p.text.split())
    if len(snippet) > snippet_chars:
        snippet = snippet[: snippet_chars - 1].rsplit(" ", 1)[0] + "…"
    return Citation(doc_id=p.doc_id, title=p.title, snippet=snippet, section=p.section, source=p.source, score=round(p.score, 4),
                    category=p.category)


def cite(reply: str, passages: list[Passage]) -> tuple[Citation, ...]:
    """Cite the passages the reply draws on.

    With figures in the reply: the fewest passages that state them (greedy cover, best rank
    first). Without: the passage sharing most of the reply's words.
    """
    if not passages:
        return ()
    need = figures(reply)
    chosen: list[Passage] = []
    if need:
        while need:
            best = max(passages, key=lambda p: len(need & figures(p.text)))
            covered = need & figures(best.text)
            if not covered:
                break
            chosen.append(best)
            need -= covered
    if not chosen:
        words = set(tokenize(reply))
        chosen = [max(passages, key=lambda p: len(words & set(tokenize(p.text))))]
    unique: dict[str, Passage] = {}
    for p in chosen:
        unique.setdefault(p.doc_id, p)
    return tuple(citation_for(p) for p in unique.values())


Relevance = Callable[[str, list[str]], Sequence[float]]

# What kind of figure a question asks for, and which a sentence states. "since when do banks have to
# ask me before charging overdraft fees" wants the date the rule took effect, not "$10 billion".
_MONTHS = r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
_ASKS = {
    "date": re.compile(r"\bsince when\b|\bwhat (?:date|year)\b|\bwhen (?:did|was|were)\b|\bin what year\b", re.I),
    "duration": re.compile(r"\bhow (?:long|soon|quickly|fast|many (?:business )?(?:days|weeks|months|years))\b|\bdeadline\b"
                           r"|\bhow much (?:time|notice)\b", re.I),
    "amount": re.compile(r"\bhow much\b(?! (?:time|notice))|\b(?:fee|fees|cost|costs|charge|price|limit|max|maximum|minimum|cap)\b", re.I),
}
_STATES = {
    "date": re.compile(rf"\b{_MONTHS}\s+\d{{1,2}}\b|\b{_MONTHS},?\s+(?:19|20)\d\d\b|\b(?:19|20)\d\d\b", re.I),
    "duration": re.compile(r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|thirty|forty-five|sixty|ninety|"
                           r"first|second|third|fourth|fifth|sixth|seventh)[- ](?:\w+[- ])?(?:days?|weeks?|months?|years?|hours?|cycles?)\b", re.I),
    "amount": re.compile(r"\$\s?\d|\d\s?%|\bpercent\b", re.I),
}


def asked_kind(question: str) -> str | None:
    """The kind of figure a question asks for: "date", "duration", "amount", or None when it does not say."""
    return next((kind for kind, pattern in _ASKS.items() if pattern.search(question)), None)


def figure_weight(kind: str | None, sentence: str, found: set[str] | None = None) -> float:
    """How much a sentence's figures count toward answering a question asking for `kind`: a figure of
    that kind fully, another kind a third (it may still be the answer, said another way).
    `found`: the sentence's `answer_figures`, when the caller has them."""
    if not (answer_figures(sentence) if found is None else found):
        return 0.0
    if kind is None or _STATES[kind].search(sentence):
        return 1.0
    return 1 / 3


def extractive_answer(question: str, passages: list[Passage], *, max_sentences: int = 2, relevance: Relevance | None = None,
                      wants_figure: bool = False, lead: str = EXTRACTIVE_LEAD) -> tuple[str, tuple[Citation, ...]]:
    """The sentences of the retrieved passages that best answer the question, verbatim and cited.

    With `relevance(question, sentences)` (the encoder's cosine) sentences of every passage
    compete by meaning; shared words still count a little, and so does a figure when the
    question asks for one: "deadline" is no word of "you can rescind until midnight of the
    third business day", yet that sentence ranks first for "what is the deadline to rescind". Without
    it: the best passage's sentences, by the words they share with the question.
    """
    if relevance is None:
        passages = passages[:1]
    candidates = [(rank, i, s) for rank, p in enumerate(passages) for i, s in enumerate(sentences(p.text))]
    if not candidates:
        best = passages[0]
        return lead.format(title=best.title) + best.text, (citation_for(best),)
    q, stated, kind = set(tokenize(question)), answer_figures(question), asked_kind(question)
    # Each sentence is read under its section heading ("60 days to send written notice"): the
    # sentence alone often lacks the subject the question names.
    meaning = list(relevance(question, [under(passages[rank].section, s) for rank, _, s in candidates])) if relevance else None
    scored = []
    for n, (rank, i, s) in enumerate(candidates):
        shared = len(q & set(tokenize(s)))
        if meaning is None:
            score = shared + (0.5 if figures(s) else 0.0) - 0.01 * i
        else:
            found = answer_figures(s)  # "Under 12 CFR 1005.17, ..." alone answers no "how long"
            # a figure the customer states ("two $6,000 cash deposits") marks the sentence about their case
            score = (meaning[n] + 0.03 * shared + (0.15 * figure_weight(kind, s, found) if wants_figure else 0.0)
                     + (0.2 if stated & found else 0.0) - 0.02 * rank)
        scored.append((score, rank, i, s))
    distinct: dict[str, tuple] = {}  # the same sentence in two documents is quoted once
    for t in sorted(scored, reverse=True):
        distinct.setdefault(" ".join(t[3].lower().split()), t)
    keep = sorted(list(distinct.values())[:max_sentences], key=lambda t: (t[1], t[2]))
    used = [passages[rank] for rank in dict.fromkeys(rank for _, rank, _, _ in keep)]
    body = " ".join(s for _, _, _, s in keep)
    titles = " and ".join(dict.fromkeys(p.title for p in used))
    unique: dict[str, Passage] = {}
    for p in used:
        unique.setdefault(p.doc_id, p)
    return lead.format(title=titles) + body, tuple(citation_for(p) for p in unique.values())
