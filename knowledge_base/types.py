"""Typed records passed between ingestion, indexing and retrieval."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Document:
    doc_id: str
    title: str
    category: str
    effective_date: str
    source: str
    path: str
    body: str
    content_hash: str
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Chunk:
    chunk_id: str
    doc_id: str
    title: str
    section: str
    category: str
    source: str
    effective_date: str
    text: str

    @property
    def embed_text(self) -> str:
        from knowledge_base.sentences import passage_text

        return passage_text(self.title, self.section, self.text)


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk with its scores: `score` is the dense cosine used for relevance."""

    chunk_id: str
    doc_id: str
    title: str
    section: str
    category: str
    source: str
    text: str
    score: float
    rank_score: float = 0.0  # fused rank score used for ordering


@dataclass(frozen=True, slots=True)
class FaqEntry:
    faq_id: str
    title: str
    questions: tuple[str, ...]
    answer: str
    answer_doc: str | None
    source: str


@dataclass(frozen=True, slots=True)
class FaqMatch:
    entry: FaqEntry
    score: float
    matched_question: str
