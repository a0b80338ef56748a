"""HTML (via markdownify, so headings still split chunks) and PDF (via pypdf) documents."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge_base.documents import DocumentError, checked_doc_id, slug
from knowledge_base.types import Document

if TYPE_CHECKING:
    from bs4 import Tag


def _attr(tag: Tag, name: str) -> str:
    """An attribute as text ("" when absent; a multi-valued one joined by spaces)."""
    value = tag.get(name)
    return " ".join(value) if isinstance(value, list) else value or ""


def load_html(path: Path) -> Document:
    from bs4 import BeautifulSoup
    from markdownify import markdownify

    raw = path.read_bytes()
    soup = BeautifulSoup(raw, "html.parser")
    meta = {_attr(m, "name").lower(): _attr(m, "content") for m in soup.find_all("meta") if _attr(m, "name")}
    for tag in soup(["script", "style", "nav", "footer", "header"]):
        tag.decompose()
    body = soup.body or soup
    text = markdownify(str(body), heading_style="ATX").strip()
    if not text:
        raise DocumentError("HTML page has no text")
    title = meta.get("title") or (soup.title.string.strip() if soup.title and soup.title.string else path.stem)
    return Document(
        doc_id=checked_doc_id(meta["doc-id"].strip()) if meta.get("doc-id") else f"html-{slug(path)}", title=title, category=meta.get("category", "general"),
        effective_date=meta.get("effective-date", ""), source=meta.get("source", path.name), path=str(path),
        body=text, content_hash=hashlib.sha256(raw).hexdigest(),
    )


def load_pdf(path: Path) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    raw = path.read_bytes()
    try:
        reader = PdfReader(path)
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        info: Mapping[str, Any] = reader.metadata or {}
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise DocumentError(f"unreadable PDF: {exc}") from exc
    text = "\n\n".join(f"## Page {i + 1}\n{t}" for i, t in enumerate(pages) if t)
    if not text:
        raise DocumentError("PDF has no extractable text (scanned image?)")
    title = str(info.get("/Title") or path.stem.replace("-", " ").replace("_", " ")).strip()
    return Document(
        doc_id=f"pdf-{slug(path)}", title=title, category=str(info.get("/Subject") or "general"), effective_date="",
        source=path.name, path=str(path), body=text, content_hash=hashlib.sha256(raw).hexdigest(),
    )
