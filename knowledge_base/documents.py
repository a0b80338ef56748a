"""Load knowledge-base documents from disk (Markdown with front matter, plain text)."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import frontmatter

from knowledge_base.types import Document, FaqEntry

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf"}
REQUIRED_FIELDS = ("id", "title", "category")
# A document id, wherever it comes from (front matter, an HTML <meta name="doc-id">, the admin
# API's path): lowercase letters, digits and dashes, 2 to 81 characters, e.g. "fees-checking".
DOC_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,80}$")


class DocumentError(ValueError):
    """A file that cannot be ingested; the build reports it and goes on."""


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    faqs: list[FaqEntry] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # path -> reason


def checked_doc_id(value: str) -> str:
    if not DOC_ID.match(value):
        raise DocumentError(f"document id {value[:40]!r} must be 2-81 lowercase letters, digits and dashes")
    return value


def slug(path: Path) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")


def load_file(path: Path) -> Document:
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        from knowledge_base.formats import load_html

        return load_html(path)
    if suffix == ".pdf":
        from knowledge_base.formats import load_pdf

        return load_pdf(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"not UTF-8 text: {exc}") from exc
    digest = hashlib.sha256(raw).hexdigest()
    if path.suffix.lower() == ".txt":
        title = next((ln.strip() for ln in text.splitlines() if ln.strip()), path.stem)
        return Document(
            doc_id=f"txt-{slug(path)}", title=title, category="general", effective_date="",
            source=path.name, path=str(path), body=text, content_hash=digest,
        )
    try:
        post = frontmatter.loads(text)
    except Exception as exc:  # yaml errors come in several types
        raise DocumentError(f"bad front matter: {exc}") from exc
    meta = dict(post.metadata)
    missing = [k for k in REQUIRED_FIELDS if not meta.get(k)]
    if missing:
        raise DocumentError(f"front matter lacks {', '.join(missing)}")
    if not post.content.strip():
        raise DocumentError("document has no body")
    return Document(
        doc_id=checked_doc_id(str(meta.pop("id"))),
        title=str(meta.pop("title")),
        category=str(meta.pop("category")),
        effective_date=str(meta.pop("effective_date", "")),
        source=str(meta.pop("source", path.name)),
        path=str(path),
        body=post.content,
        content_hash=digest,
        extra=meta,
    )


def faq_from_document(doc: Document) -> FaqEntry | None:
    questions = doc.extra.get("questions")
    if not questions:
        return None
    return FaqEntry(
        faq_id=doc.doc_id,
        title=doc.title,
        questions=tuple(str(q) for q in [doc.title, *questions]),
        answer=doc.body.strip(),
        answer_doc=doc.extra.get("answer_doc"),
        source=doc.source,
    )


def load_directory(root: Path) -> LoadResult:
    """Every supported file under root; failures are collected, never fatal."""
    result = LoadResult()
    seen: dict[str, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES or path.name.lower() == "readme.md":
            continue
        try:
            doc = load_file(path)
        except (DocumentError, OSError) as exc:
            result.failed[str(path)] = str(exc)
            log.warning("skipped %s: %s", path, exc)
            continue
        if doc.doc_id in seen:
            result.failed[str(path)] = f"duplicate id {doc.doc_id} (also in {seen[doc.doc_id]})"
            continue
        seen[doc.doc_id] = str(path)
        faq = faq_from_document(doc)
        if faq is not None:
            result.faqs.append(faq)
        result.documents.append(doc)
    return result
