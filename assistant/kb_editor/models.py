"""Tables of the knowledge-base editor: drafts under review and every published version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from assistant.storage.models import Base, utcnow


class KbDraft(Base):
    """A document or FAQ entry being written. `revision` guards concurrent saves (409 when stale);
    `base_sha256` is the published text the draft started from (None: a new document), so a
    publish over someone else's newer version is refused too."""

    __tablename__ = "kb_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    doc_id: Mapped[str] = mapped_column(String(90), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # faq | document
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)  # draft | submitted | published | withdrawn
    revision: Mapped[int] = mapped_column(Integer, default=1)
    base_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    base_version: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[int] = mapped_column(Integer)
    author_name: Mapped[str] = mapped_column(String(64))
    editor_ids: Mapped[list] = mapped_column(JSON, default=list)  # everyone who saved a revision
    notes: Mapped[dict] = mapped_column(JSON, default=dict)  # drafted from questions: citations, gap, existing FAQs
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    published_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KbVersion(Base):
    """One published text of a document, with its diff from the version before. `import`: the text
    found in the knowledge-base folder (shipped, or written by the admin API) before an editor change."""

    __tablename__ = "kb_versions"
    __table_args__ = (UniqueConstraint("doc_id", "version", name="uq_kb_versions_doc_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    doc_id: Mapped[str] = mapped_column(String(90), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # import | publish | rollback
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    diff: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(40))
    draft_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rollback_to: Mapped[int | None] = mapped_column(Integer, nullable=True)
    author_name: Mapped[str] = mapped_column(String(64))
    published_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    published_by_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
