"""A conversation as quality inspection reads it: redacted messages split into the bot's part and
the agent's part, the hand-off tickets and when the customer's identity was proven.

The same model is read from the database (`load_transcript`) and from the labelled set's YAML
(tests/qa/labelled/), so the scorer never knows which it is scoring.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeGuard, get_args

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.storage.models import Agent, Conversation, DialogueState, Message, Ticket

Part = Literal["bot", "agent"]
Role = Literal["user", "assistant", "agent", "system"]
ROLES: tuple[Role, ...] = get_args(Role)
PARTS: tuple[Part, ...] = ("bot", "agent")
FACT_PATHS = frozenset({"faq", "extractive", "generated"})  # bot replies that state facts from the KB


class Citation(BaseModel):
    model_config = ConfigDict(extra="ignore")
    doc_id: str
    title: str = ""
    section: str | None = None


class QaMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int
    role: Role
    part: Part
    text: str
    at: datetime | None = None
    path: str | None = None
    intent: str | None = None
    citations: list[Citation] = Field(default_factory=list)


class QaTicket(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int
    reason: str
    status: str
    resolution: str | None = None
    agent: str | None = None  # username of the agent who held it
    agent_id: int | None = None
    created_at: datetime | None = None
    claimed_at: datetime | None = None
    closed_at: datetime | None = None


class Transcript(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conversation_id: str
    channel: str = "web"
    created_at: datetime | None = None
    verified_at: datetime | None = None  # when the bank's sign-in or a one-time code proved who it is
    verified_by: str | None = None
    messages: list[QaMessage]
    tickets: list[QaTicket] = Field(default_factory=list)

    def part(self, part: Part) -> list[QaMessage]:
        return [m for m in self.messages if m.part == part]

    def has_part(self, part: Part) -> bool:
        """The bot part exists when the bot said anything; the agent part when an agent did."""
        role = "assistant" if part == "bot" else "agent"
        return any(m.role == role for m in self.part(part))

    @property
    def handoff(self) -> QaTicket | None:
        return self.tickets[0] if self.tickets else None

    def verified_before(self, message: QaMessage) -> bool:
        if self.verified_at is None:
            return False
        if message.at is None:  # labelled YAML without times: the verified_at message id is used instead
            return False
        return self.verified_at <= message.at


def _is_role(role: str) -> TypeGuard[Role]:
    return role in ROLES


def _role(m: Message) -> Role:
    """A stored role outside `Role` is bad data: ValueError names the message ("message 812: role 'bot'")."""
    if not _is_role(m.role):
        raise ValueError(f"message {m.id}: role {m.role!r} is not one of {', '.join(ROLES)}")
    return m.role


def _part_of(m: Message, windows: list[tuple[datetime, datetime | None]]) -> Part:
    """Agent messages, and anything said while an agent held the conversation, belong to the agent part."""
    if m.role == "agent":
        return "agent"
    for start, end in windows:
        if m.created_at >= start and (end is None or m.created_at <= end):
            return "agent"
    return "bot"


def load_transcript(s: Session, conversation_id: str) -> Transcript | None:
    conv = s.get(Conversation, conversation_id)
    if conv is None:
        return None
    tickets = s.scalars(select(Ticket).where(Ticket.conversation_id == conversation_id).order_by(Ticket.id)).all()
    names = {a.id: a.username for a in s.scalars(select(Agent)).all()}
    windows = [(t.claimed_at, t.closed_at) for t in tickets if t.claimed_at is not None]
    msgs = s.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)).all()
    state = s.get(DialogueState, conversation_id)
    return Transcript(
        conversation_id=conv.id, channel=conv.channel, created_at=conv.created_at,
        verified_at=state.verified_at if state else None, verified_by=state.verified_by if state else None,
        messages=[QaMessage(id=m.id, role=_role(m), part=_part_of(m, windows), text=m.text, at=m.created_at, path=m.path,
                            intent=m.intent, citations=[Citation.model_validate(c) for c in (m.citations or [])])
                  for m in msgs],
        tickets=[QaTicket(id=t.id, reason=t.reason, status=t.status, resolution=t.resolution,
                          agent=None if t.claimed_by is None else names.get(t.claimed_by), agent_id=t.claimed_by, created_at=t.created_at,
                          claimed_at=t.claimed_at, closed_at=t.closed_at) for t in tickets],
    )
