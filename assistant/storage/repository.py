"""Conversation repository: the only code that talks to the conversation tables."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Literal, TypeVar

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.orm import sessionmaker

from assistant.storage.db import WriteQueue, read_async
from assistant.storage.models import Conversation, Message, table_of, utcnow

T = TypeVar("T")

if TYPE_CHECKING:
    from assistant.audit import AuditLog


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


def _view(m) -> StoredMessage:  # a Message, or a row of its table
    return StoredMessage(
        id=m.id, role=m.role, text=m.text, channel=m.channel, created_at=m.created_at, path=m.path,
        intent=m.intent, intent_confidence=m.intent_confidence, citations=m.citations, latency_ms=m.latency_ms,
        feedback=m.feedback,
    )


def token_digest(token: str) -> str:
    # sha256, not argon2: the token is 256 random bits, not a human password
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SessionCheck:
    status: Literal["ok", "unknown", "mismatch", "expired"]
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """An audit record to write in the same transaction as the message it is about."""
    log: AuditLog
    kind: str
    payload: dict


class ConversationRepository:
    def __init__(self, sessions: sessionmaker, writes: WriteQueue | None = None) -> None:
        self._sessions, self._engine = sessions, sessions.kw["bind"]
        self._writes = writes or WriteQueue(sessions)  # every turn's writes go through it (group commit)

    @property
    def writes(self) -> WriteQueue:
        """The turn writes' queue, for other tables written on every turn (the dialogue state)."""
        return self._writes

    def create(self, channel: str, *, owner: str | None = None) -> str:
        """A conversation owned by a server-side channel (robot session, phone call, CLI); `owner`
        names the one party that may resume it (e.g. "robot:3")."""
        cid, _, job = _new_conversation(channel, customer=False, owner=owner)
        self._writes.run(job)
        return cid

    async def create_async(self, channel: str, *, owner: str | None = None) -> str:
        cid, _, job = _new_conversation(channel, customer=False, owner=owner)
        await self._writes.run_async(job)
        return cid

    def start_session(self, channel: str) -> tuple[str, str]:
        """A customer's conversation and its session token, returned once; only its hash is kept."""
        cid, token, job = _new_conversation(channel, customer=True)
        self._writes.run(job)
        return cid, token

    async def start_session_async(self, channel: str) -> tuple[str, str]:
        cid, token, job = _new_conversation(channel, customer=True)
        await self._writes.run_async(job)
        return cid, token

    def server_owned(self, cid: str, channel: str, owner: str) -> bool:
        """A conversation of `channel` that no customer token holds and `owner` started (a robot
        resumes its own conversations only, e.g. not another branch's)."""
        with self._sessions() as s:
            conv = s.get(Conversation, cid)
            return conv is not None and conv.channel == channel and conv.token_hash is None and conv.owner == owner

    def session_check(self, cid: str, token: str, ttl: timedelta) -> SessionCheck:
        """Whether `token` is the live session token of conversation `cid`; a token lives `ttl` from its issue."""
        with self._sessions() as s:
            conv = s.get(Conversation, cid)
            if conv is None:
                return SessionCheck("unknown")
            if conv.token_hash is None or not hmac.compare_digest(conv.token_hash, token_digest(token)):
                return SessionCheck("mismatch")
            issued = conv.created_at if conv.created_at.tzinfo else conv.created_at.replace(tzinfo=utcnow().tzinfo)
            expires = issued + ttl
            return SessionCheck("ok" if utcnow() < expires else "expired", expires)

    def exists(self, cid: str) -> bool:
        with self._sessions() as s:
            return s.get(Conversation, cid) is not None

    def status(self, cid: str) -> str | None:
        """'bot', 'waiting' (queued for an agent) or 'agent'; None for an unknown id."""
        with self._sessions() as s:
            conv = s.get(Conversation, cid)
            return conv.status if conv else None

    def turn_context(self, cid: str, limit: int) -> tuple[str, list[StoredMessage]] | None:
        """Status and the last `limit` messages (oldest first) in one read; None for an unknown id."""
        sql = _hot()  # rows, not ORM objects, on a Core connection (half the cost of a Session): every turn reads here
        with self._engine.connect() as s:
            status = s.execute(sql.status, {"cid": cid}).scalar()
            if status is None:
                return None
            rows = s.execute(sql.recent, {"cid": cid, "limit": limit}).all()
            return status, [_view(m) for m in reversed(rows)]

    async def read(self, read: Callable[..., T], *args) -> T:
        """Run one of the short reads on this database from the event loop (`read_async`)."""
        return await read_async(self._sessions, read, *args)

    async def turn_context_async(self, cid: str, limit: int) -> tuple[str, list[StoredMessage]] | None:
        return await self.read(self.turn_context, cid, limit)

    def recent(self, cid: str, limit: int) -> list[StoredMessage]:
        """The last `limit` messages, oldest first."""
        found = self.turn_context(cid, limit)
        return found[1] if found else []

    def add(self, cid: str, *, role: str, text: str, channel: str, audit: AuditEntry | None = None, **fields) -> int:
        """Store a message (and `audit`, its audit record, in the same transaction); its id once committed."""
        return self._writes.run(_insert_message(cid, role, text, channel, audit, fields))

    async def add_async(self, cid: str, *, role: str, text: str, channel: str, audit: AuditEntry | None = None,
                        **fields) -> int:
        """`add` for the event loop: waits for the commit without holding a worker thread."""
        return await self._writes.run_async(_insert_message(cid, role, text, channel, audit, fields))

    def close(self) -> None:
        self._writes.close()

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


@functools.cache
def _hot() -> SimpleNamespace:
    """Every turn's statements, built once with bound parameters.

    Core on the tables, not the ORM, and no statement built per call (`.values(...)` makes a new
    cache key each time): a prebuilt statement's cache key is memoised
    (docs/decisions/0009-faq-path-under-load.md).
    """
    messages, conversations = table_of(Message), table_of(Conversation)
    return SimpleNamespace(
        insert_conversation=insert(conversations),
        insert_message=insert(messages).returning(messages.c.id),
        touch=update(conversations).where(conversations.c.id == bindparam("cid")).values(updated_at=bindparam("now")),
        # a customer message also marks when the customer first spoke (the dashboard's conversation count)
        touch_user=update(conversations).where(conversations.c.id == bindparam("cid")).values(
            updated_at=bindparam("now"), first_user_at=func.coalesce(conversations.c.first_user_at, bindparam("now"))),
        status=select(conversations.c.status).where(conversations.c.id == bindparam("cid")),
        recent=select(messages).where(messages.c.conversation_id == bindparam("cid"))
        .order_by(messages.c.id.desc()).limit(bindparam("limit")),
    )


def _new_conversation(channel: str, *, customer: bool, owner: str | None = None):
    """A new conversation's id, its customer session token (None for a server-owned one) and the write."""
    cid = str(uuid.uuid4())
    token = "cst_" + secrets.token_urlsafe(32) if customer else None
    values = {"id": cid, "channel": channel, "created_at": utcnow(),
              **({"token_hash": token_digest(token)} if token else {}), **({"owner": owner} if owner else {})}

    def job(c: Connection) -> None:
        c.execute(_hot().insert_conversation, values)
    return cid, token, job


def _insert_message(cid: str, role: str, text: str, channel: str, audit: AuditEntry | None, fields: dict):
    def job(c: Connection) -> int:
        sql = _hot()
        mid = c.execute(sql.insert_message, {"conversation_id": cid, "role": role, "text": text, "channel": channel,
                                             **fields}).scalar_one()
        c.execute(sql.touch_user if role == "user" else sql.touch, {"cid": cid, "now": utcnow()})
        if audit is not None:
            audit.log.append_in(c, audit.kind, audit.payload, cid)
        return mid
    return job
