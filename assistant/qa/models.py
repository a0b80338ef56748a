"""Quality-inspection tables (migration 0011_qa_scores): one score per closed conversation and
scorecard, its item results with evidence, reviewers' verdicts, and agents' teams for reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from assistant.storage.models import Base, utcnow


class QaScore(Base):
    __tablename__ = "qa_scores"
    __table_args__ = (UniqueConstraint("conversation_id", "scorecard"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    scorecard: Mapped[str] = mapped_column(String(64))  # e.g. default-v1
    score: Mapped[float | None] = mapped_column(Float, nullable=True)  # 0-100; None: no item applied
    channel: Mapped[str] = mapped_column(String(16))
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # username; None: bot only
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)  # the last message
    last_message_id: Mapped[int] = mapped_column(Integer)
    scored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    risk: Mapped[list] = mapped_column(JSON, default=list)  # why it is in the review queue; [] when it is not
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    reviewer: Mapped[str | None] = mapped_column(String(64), nullable=True)


class QaItemResult(Base):
    __tablename__ = "qa_item_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("qa_scores.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(48))
    part: Mapped[str] = mapped_column(String(8))  # bot | agent
    result: Mapped[str] = mapped_column(String(4))  # pass | fail | na, as the scorer decided
    method: Mapped[str] = mapped_column(String(16))
    weight: Mapped[float] = mapped_column(Float)
    critical: Mapped[bool] = mapped_column(default=False)
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the evidence
    span_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    span_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    review_result: Mapped[str | None] = mapped_column(String(4), nullable=True)  # a reviewer's verdict
    reviewer: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    review_note: Mapped[str | None] = mapped_column(String(300), nullable=True)


class QaTeam(Base):
    """Which team an agent reports to (`bankassist qa team USERNAME TEAM`)."""

    __tablename__ = "qa_teams"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    team: Mapped[str] = mapped_column(String(64))
