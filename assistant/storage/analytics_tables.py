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


# ---- daily rollups of the dashboard's counts (assistant/analytics/rollups.py): one row per UTC day and group,
# rebuilt from the raw rows for a day marked dirty (triggers of migration 0014 mark the day of every written
# message, conversation or ticket); days not rebuilt since their last write are read from the raw rows.


class RollupDay(Base):
    """A day whose rollup rows were rebuilt from the raw rows."""

    __tablename__ = "rollup_days"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # "2026-03-02", UTC


class RollupDirtyDay(Base):
    """A day with writes since its rollup rows were rebuilt (marked by triggers)."""

    __tablename__ = "rollup_dirty_days"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)


class RollupReply(Base):
    """Assistant messages per day, channel and answer route; `low`: of them with intent confidence under 0.45."""

    __tablename__ = "rollup_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))  # indexed with its groups: migration 0014
    channel: Mapped[str] = mapped_column(String(16))
    path: Mapped[str | None] = mapped_column(String(16), nullable=True)
    n: Mapped[int] = mapped_column(Integer)
    low: Mapped[int] = mapped_column(Integer)


class RollupQuestion(Base):
    """Customer messages with an intent per day, channel and intent."""

    __tablename__ = "rollup_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))  # indexed with its groups: migration 0014
    channel: Mapped[str] = mapped_column(String(16))
    intent: Mapped[str] = mapped_column(String(64))
    n: Mapped[int] = mapped_column(Integer)


class RollupConversation(Base):
    """Conversations (with a customer message) per day of creation and channel, and of them handed off."""

    __tablename__ = "rollup_conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))  # indexed with its groups: migration 0014
    channel: Mapped[str] = mapped_column(String(16))
    n: Mapped[int] = mapped_column(Integer)
    handed: Mapped[int] = mapped_column(Integer)


class RollupDocRating(Base):
    """Rated replies per day, channel and cited document (a reply citing two documents counts for both)."""

    __tablename__ = "rollup_doc_ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))  # indexed with its groups: migration 0014
    channel: Mapped[str] = mapped_column(String(16))
    doc_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500))
    down: Mapped[int] = mapped_column(Integer)
    up: Mapped[int] = mapped_column(Integer)


class RollupTickets(Base):
    """Hand-off tickets per day and channel, per agent who claimed them: `groups` JSON [[agent id (None:
    unclaimed), tickets, abandoned in the queue, waits, handle times], ...] and `durations` the queue waits then
    handle times of each group in turn (float64, little-endian). The queue figures take quantiles, so the
    durations are kept, computed once and read without parsing."""

    __tablename__ = "rollup_tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))  # indexed with its groups: migration 0014
    channel: Mapped[str] = mapped_column(String(16))
    groups: Mapped[str] = mapped_column(Text)
    durations: Mapped[bytes] = mapped_column(LargeBinary)
