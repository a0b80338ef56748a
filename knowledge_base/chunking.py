"""Split documents into heading-scoped chunks (LangChain text splitters), with overlap."""

from __future__ import annotations

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from knowledge_base.types import Chunk, Document

_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]


def chunk_document(doc: Document, *, max_chars: int = 900, overlap: int = 150) -> list[Chunk]:
    by_heading = MarkdownHeaderTextSplitter(headers_to_split_on=_HEADERS, strip_headers=True)
    sized = RecursiveCharacterTextSplitter(chunk_size=max_chars, chunk_overlap=overlap)
    chunks: list[Chunk] = []
    for section in by_heading.split_text(doc.body):
        heading = section.metadata.get("h3") or section.metadata.get("h2") or ""
        for piece in sized.split_text(section.page_content):
            text = piece.strip()
            if len(text) < 20:  # a stray heading or separator carries nothing to cite
                continue
            chunks.append(
                Chunk(
                    chunk_id=f"{doc.doc_id}#{len(chunks)}",
                    doc_id=doc.doc_id,
                    title=doc.title,
                    section=heading,
                    category=doc.category,
                    source=doc.source,
                    effective_date=doc.effective_date,
                    text=text,
                )
            )
    return chunks
