"""Tables. Text columns hold redacted text only: raw customer text is never stored."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


def table_of(model: type[Base]) -> Table:
    """The model's Table, for Core statements (SQLAlchemy types `__table__` as any FROM clause)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to one table")
    return table


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="bot")
    # sha256 of the customer's session token; None where a server-side channel owns the conversation
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # the server-side party that may resume it, e.g. "robot:3" (None: a customer token or nobody)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # when the customer first wrote or spoke (None: a session nobody used) and when the first hand-off ticket
    # was opened: kept on the row so that the dashboard counts conversations without reading their messages
    first_user_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    handed_off_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id", cascade="all, delete-orphan"
    )


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # user | assistant | agent | system
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    path: Mapped[str | None] = mapped_column(String(16), nullable=True)
    intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    intent_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    citations: Mapped[list | None] = mapped_column(JSON, nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    first_token_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    pii: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # counts by kind, never values
    feedback: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # the dialogue manager's route (knowledge, flow_start, slot_fill, confirm, ...), the flow it concerned and how
    # that flow ended on this turn (completed | cancelled | failed | handoff; None while it runs): for analytics
    route: Mapped[str | None] = mapped_column(String(24), nullable=True)
    flow: Mapped[str | None] = mapped_column(String(64), nullable=True)
    flow_outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Ticket(Base):
    """A handoff to a human: queued -> claimed -> closed (or cancelled by the customer)."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    reason: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, default="")
    sentiment: Mapped[str | None] = mapped_column(String(16), nullable=True)
    intents: Mapped[list | None] = mapped_column(JSON, nullable=True)
    branch_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(32), nullable=True)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(120), default="agent")  # comma-separated auth.roles.Role values
    disabled: Mapped[bool] = mapped_column(default=False)  # `bankassist agents disable`: no login, sessions gone
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AgentSession(Base):
    """Bearer tokens for agents; only the token's sha256 is stored."""

    __tablename__ = "agent_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Robot(Base):
    """A lobby robot allowed to open /v1/robot sessions; only its token's sha256 is stored."""

    __tablename__ = "robots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    branch_id: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked: Mapped[bool] = mapped_column(default=False)


class AuditRecord(Base):
    """Append-only, hash-chained: hash = sha256(prev_hash + canonical JSON of this record)."""

    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditAnchor(Base):
    """Where the chain starts after a retention purge: the last purged record's id and hash."""

    __tablename__ = "audit_anchor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_purged_id: Mapped[int] = mapped_column(Integer)
    last_purged_hash: Mapped[str] = mapped_column(String(64))
    purged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DialogueState(Base):
    """Who the customer is (once proven) and the self-service flow in progress, per conversation.

    Kept in the database so a flow survives a restart, a dropped socket and a turn that lands on
    another API worker. `flow` is the runner's JSON state; `version` guards concurrent turns.
    """

    __tablename__ = "dialogue_states"

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    verified_by: Mapped[str | None] = mapped_column(String(32), nullable=True)  # assertion | otp | ...
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    flow: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class UsedAssertion(Base):
    """Identity assertions already accepted (sha256 of the jti), kept until they expire: a replayed
    assertion is refused on every API process (assistant/banking/identity.py)."""

    __tablename__ = "identity_assertions_used"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class KbUpload(Base):
    """A knowledge-base file written or deleted through the admin API; each replica copies these
    into its own knowledge-base folder (assistant/kb_sync.py)."""

    __tablename__ = "kb_uploads"

    rel_path: Mapped[str] = mapped_column(String(300), primary_key=True)
    data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # None: deleted
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
