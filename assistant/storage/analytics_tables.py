"""Tables of the supervisor analytics: satisfaction surveys and knowledge gaps (assistant/analytics/).

Text columns hold redacted text only, as everywhere else.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.storage.models import Base, utcnow


class CsatResponse(Base):
    """One satisfaction answer per conversation: a score 1-5 and an optional (redacted) comment."""

    __tablename__ = "csat_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class GapQuestion(Base):
    """A customer question the assistant did not serve (no answer, a clarifying question, a thumbs-down or a
    hand-off), with its MiniLM vector and the knowledge gap it belongs to (None: not placed yet)."""

    __tablename__ = "gap_questions"

    message_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # the user message
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(16))  # no_answer | clarify | thumbs_down | handoff
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, unit length
    gap_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class KnowledgeGap(Base):
    """A cluster of gap questions: a name from its top terms, its centroid, size and examples."""

    __tablename__ = "knowledge_gaps"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    centroid: Mapped[bytes] = mapped_column(LargeBinary)  # float32, unit length
    size: Mapped[int] = mapped_column(Integer)
    examples: Mapped[list] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class AnalyticsMark(Base):
    """Progress of the incremental jobs: the last message id read, when the last full reclustering ran."""

    __tablename__ = "analytics_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
