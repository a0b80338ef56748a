"""Knowledge base: documents, ingestion, chunking, index build, hybrid retrieval, FAQ matching.

This package never imports `assistant`; the runtime wires it in `assistant.services`.
"""

from knowledge_base.types import Chunk, Document, FaqEntry, FaqMatch, Passage

__all__ = ["Chunk", "Document", "FaqEntry", "FaqMatch", "Passage"]
