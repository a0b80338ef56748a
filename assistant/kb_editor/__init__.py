"""The knowledge-base loop behind /console/kb: drafts, review, publish, versions, rollback, "try it"."""

from __future__ import annotations

from pathlib import Path

from assistant.kb_editor.service import KbEditor
from assistant.kb_editor.store import EditorStore
from assistant.kb_editor.trial import DraftTrial

__all__ = ["KbEditor", "build_kb_editor"]


def build_kb_editor(settings, *, sessions, admin, pipeline, reranker, audit) -> KbEditor:
    """`pipeline`: the live DialoguePipeline (not the throttled wrapper), whose answering path "try it" reuses."""
    trial = DraftTrial(docs_dir=Path(settings.retrieval.docs_dir), embedder=admin.embedder, reranker=reranker,
                       vector_cache=settings.vector_cache, base=pipeline)
    return KbEditor(store=EditorStore(sessions), admin=admin, trial=trial, audit=audit,
                    min_relevance=settings.answering.min_relevance, faq_threshold=settings.answering.faq_threshold)
