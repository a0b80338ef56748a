"""Conversation repository: the only code that talks to the conversation tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from assistant.storage.models import Conversation, Message, utcnow


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: int
    role: str
    text: str
    channel: str
    created_at: datetime
    path: str | None = None
    intent: str | None = None
    intent_confidence: float | None = None
    citations: list | None = None
    latency_ms: float | None = None
    feedback: int | None = None


@dataclass(frozen=True, slots=True)
class ConversationView:
    id: str
    channel: str
    status: str
    created_at: datetime
    messages: list[StoredMessage]


def _view(m: Message) -> StoredMessage:
    return StoredMessage(
        id=m.id, role=m.role, text=m.text, channel=m.channel, created_at=m.created_at, path=m.path,
        intent=m.intent, intent_confidence=m.intent_confidence, citations=m.citations, latency_ms=m.latency_ms,
        feedback=m.feedback,
    )


class ConversationRepository:
    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def create(self, channel: str) -> str:
        cid = str(uuid.uuid4())
        with self._sessions.begin() as s:
            s.add(Conversation(id=cid, channel=channel))
        return cid

    def exists(self, cid: str) -> bool:
        with self._sessions() as s:
            return s.get(Conversation, cid) is not None

    def status(self, cid: str) -> str | None:
        """'bot', 'waiting' (queued for an agent) or 'agent'; None for an unknown id."""
        with self._sessions() as s:
            conv = s.get(Conversation, cid)
            return conv.status if conv else None

    def recent(self, cid: str, limit: int) -> list[StoredMessage]:
        """The last `limit` messages, oldest first."""
        with self._sessions() as s:
            rows = s.scalars(
                select(Message).where(Message.conversation_id == cid).order_by(Message.id.desc()).limit(limit)
            ).all()
            return [_view(m) for m in reversed(rows)]

    def add(self, cid: str, *, role: str, text: str, channel: str, **fields) -> int:
        with self._sessions.begin() as s:
            msg = Message(conversation_id=cid, role=role, text=text, channel=channel, **fields)
            s.add(msg)
            conv = s.get(Conversation, cid)
            if conv is not None:
                conv.updated_at = utcnow()
            s.flush()
            return msg.id

    def set_feedback(self, cid: str, message_id: int, value: int) -> bool:
        """Thumbs up (1) or down (-1) on an assistant message of this conversation."""
        with self._sessions.begin() as s:
            msg = s.get(Message, message_id)
            if msg is None or msg.conversation_id != cid or msg.role != "assistant":
                return False
            msg.feedback = value
            return True

    def get(self, cid: str) -> ConversationView | None:
        with self._sessions() as s:
            conv = s.get(Conversation, cid)
            if conv is None:
                return None
            return ConversationView(
                id=conv.id, channel=conv.channel, status=conv.status, created_at=conv.created_at,
                messages=[_view(m) for m in conv.messages],
            )
