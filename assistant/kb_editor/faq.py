"""FAQ entries as form fields and as Markdown, and an FAQ drafted from customers' questions.

A drafted FAQ is a starting point for a person: the questions (redacted, near-duplicates
dropped) become its variants, the most typical one its title, and its answer is the retrieved
passages' best sentences, cited (the extractive path of assistant/core/grounding.py). Example:
["can i bring my dog to the branch", "are pets allowed in branches?"] -> title "Can i bring my dog
to the branch?", the other as a variant. Nothing is published from here.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import yaml

from assistant.core.events import Citation
from assistant.core.grounding import extractive_answer
from assistant.kb_editor.validate import FAQ, PLACEHOLDER, Malformed, check
from assistant.privacy import redact
from knowledge_base.types import FaqMatch, Passage

MAX_VARIANTS = 12
NEAR_DUPLICATE = 0.97  # cosine: "whats the fee" and "what's the fee?" are one variant
_SLUG = re.compile(r"[^a-z0-9]+")
_STOP = {"a", "an", "the", "i", "my", "do", "does", "can", "is", "are", "to", "of", "in", "for", "what", "how", "you", "your"}


@dataclass(frozen=True, slots=True)
class FaqFields:
    doc_id: str
    title: str
    questions: tuple[str, ...]
    answer: str
    answer_doc: str = ""
    source: str = "Larkspur Bank customer service"
    effective_date: str = ""


def faq_markdown(f: FaqFields) -> str:
    """The FAQ as the knowledge base stores it: front matter (category faq) and the answer as body."""
    effective: dt.date | str
    try:  # a date, not a string, so it is written unquoted like the shipped entries' (effective_date: 2026-01-01)
        effective = dt.date.fromisoformat(f.effective_date) if f.effective_date else dt.date.today()
    except ValueError:
        effective = f.effective_date  # the check names its line
    meta: dict[str, object] = {"id": f.doc_id, "title": f.title, "category": FAQ, "effective_date": effective,
                               "source": f.source}
    if f.answer_doc:
        meta["answer_doc"] = f.answer_doc
    meta["questions"] = [q for q in f.questions if q.strip()]
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)
    return f"---\n{front}---\n{f.answer.strip()}\n"


def faq_fields(text: str) -> FaqFields:
    """The form fields of an FAQ entry's Markdown (Malformed when it is not one)."""
    doc = check(text)
    return FaqFields(doc_id=doc.doc_id, title=doc.title, questions=tuple(doc.questions), answer=doc.body.strip(),
                     answer_doc=str(doc.meta.get("answer_doc") or ""), source=str(doc.meta.get("source") or ""),
                     effective_date=str(doc.meta.get("effective_date") or ""))


def lenient_faq_fields(text: str) -> FaqFields | None:
    """The form fields of an FAQ draft still being written (a title or variants missing): the form
    shows what is there; None when the front matter cannot be read at all."""
    try:
        return faq_fields(text)
    except Malformed:
        pass
    parts = text.replace("\r\n", "\n").split("---\n", 2)
    try:
        meta = yaml.safe_load(parts[1]) if len(parts) == 3 and not parts[0].strip() else None
    except yaml.YAMLError:
        return None
    if not isinstance(meta, dict) or not isinstance(meta.get("questions") or [], list):
        return None
    text_of = lambda key: str(meta.get(key) or "")  # noqa: E731
    return FaqFields(doc_id=text_of("id"), title=text_of("title"), questions=tuple(str(q) for q in meta.get("questions") or []),
                     answer=parts[2].strip(), answer_doc=text_of("answer_doc"), source=text_of("source"),
                     effective_date=text_of("effective_date"))


class Knowledge(Protocol):
    def embed(self, text: str) -> np.ndarray: ...
    def embed_many(self, texts: list[str]) -> np.ndarray: ...
    def search(self, query: str, k: int = 5, category: str | None = None, vector: np.ndarray | None = None) -> list[Passage]: ...
    def faq_candidates(self, vector: np.ndarray, n: int = 4) -> list[FaqMatch]: ...


@dataclass(frozen=True, slots=True)
class FaqSuggestion:
    fields: FaqFields
    citations: tuple[Citation, ...]
    existing: tuple[dict, ...] = field(default_factory=tuple)  # FAQ entries that already answer these questions


def clean_questions(questions: list[str]) -> list[str]:
    """Redacted, trimmed, one per wording (case and spacing ignored), in the order given."""
    seen: dict[str, str] = {}
    for q in questions:
        text = " ".join(redact(str(q)).text.split())[:300]
        if text:
            seen.setdefault(text.lower().rstrip("?. "), text)
    return list(seen.values())


def _variants(questions: list[str], vectors: np.ndarray) -> tuple[int, list[int]]:
    """The most typical question (closest to the others) and the indices kept as variants."""
    sims = vectors @ vectors.T
    central = int(np.argmax(sims.sum(axis=1)))
    kept: list[int] = [central]
    for i in np.argsort(-sims[central]):
        if len(kept) >= MAX_VARIANTS + 1:
            break
        if all(sims[i, j] < NEAR_DUPLICATE for j in kept):
            kept.append(int(i))
    return central, kept[1:]


def as_title(question: str) -> str:
    text = question.strip().rstrip("?.! ")
    return (text[:1].upper() + text[1:] + "?") if text else ""


def new_doc_id(title: str, taken: set[str]) -> str:
    """`faq-` and the title's main words, unique among `taken`: "Can I bring my dog?" -> "faq-bring-dog"."""
    words = [w for w in _SLUG.split(title.lower()) if w and w not in _STOP][:6] or ["entry"]
    base = ("faq-" + "-".join(words))[:70].rstrip("-")
    doc_id, n = base, 2
    while doc_id in taken:
        doc_id, n = f"{base}-{n}", n + 1
    return doc_id


def suggest_faq(questions: list[str], kb: Knowledge, *, taken: set[str], min_relevance: float,
                faq_threshold: float, k: int = 5) -> FaqSuggestion:
    """An FAQ draft from customers' questions (cleaned with `clean_questions`; at least one)."""
    vectors = kb.embed_many(questions)
    central, kept = _variants(questions, vectors)
    title = as_title(questions[central])
    pool: dict[str, Passage] = {}
    for q, v in zip(questions, vectors, strict=True):
        for p in kb.search(q, k, None, v):
            if p.score >= min_relevance and (p.chunk_id not in pool or pool[p.chunk_id].score < p.score):
                pool[p.chunk_id] = p
    passages = sorted(pool.values(), key=lambda p: -p.score)[:k]
    answer, cites = PLACEHOLDER, tuple[Citation, ...]()
    if passages:
        qv = vectors[central]
        relevance = lambda q, texts: kb.embed_many(texts) @ qv  # noqa: E731  (cosine to the typical question)
        answer, cites = extractive_answer(title, passages, max_sentences=3, relevance=relevance, lead="")
    existing = {m.entry.faq_id: {"doc_id": m.entry.faq_id, "title": m.entry.title, "score": round(m.score, 3)}
                for v in vectors for m in kb.faq_candidates(v, 1) if m.score >= faq_threshold}
    variants = tuple(questions[i] for i in kept) or (questions[central],)  # an FAQ lists at least one variant
    fields = FaqFields(doc_id=new_doc_id(title, taken), title=title, questions=variants,
                       answer=answer, answer_doc=next((c.doc_id for c in cites if c.category != FAQ), ""))
    return FaqSuggestion(fields, tuple(cites), tuple(existing.values()))
