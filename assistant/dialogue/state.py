"""A conversation's dialogue state (verified customer, flow in progress) and where it is kept."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import BindParameter, Connection, bindparam, insert, select, update
from sqlalchemy.orm import sessionmaker

from assistant.storage.db import WriteQueue
from assistant.storage.models import DialogueState, table_of, utcnow

Awaiting = Literal["slot", "confirm", "code", "identity"]


class StateConflict(RuntimeError):
    """Another turn of the same conversation changed the state first."""


@dataclass(frozen=True, slots=True)
class FlowState:
    """Where a flow stands. Slot values are JSON-ready dicts ({"amount": "250.00", "currency": "USD"},
    {"id": "acc_1", "label": "checking ending 4821"}), so the state round-trips through the database."""

    flow: str
    step: str
    slots: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    awaiting: Awaiting | None = None
    retries: int = 0
    confirmed: str | None = None  # digest of the slot values the customer said yes to
    stepped_up: str | None = None  # same digest, once a one-time code was checked for them
    instance: str = field(default_factory=lambda: secrets.token_hex(8))  # idempotency keys derive from it

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowState:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def but(self, **changes: Any) -> FlowState:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class DialogueContext:
    conversation_id: str
    customer_id: str | None = None
    verified_by: str | None = None
    verified_at: datetime | None = None
    flow: FlowState | None = None
    version: int = 0

    @property
    def verified(self) -> bool:
        return self.customer_id is not None


class DialogueStore:
    """Loads and saves DialogueContext; a save with a stale version raises StateConflict.

    Core statements built once (no ORM session per call); a save is a job of the conversations'
    write queue when one is given (`writes`), so on SQLite it shares the group commit of the turn's
    messages instead of a commit, and a sync to disk, of its own (assistant/storage/db.py)."""

    def __init__(self, sessions: sessionmaker, writes: WriteQueue | None = None) -> None:
        self._sessions, self._engine = sessions, sessions.kw["bind"]
        self._writes = writes or WriteQueue(sessions)
        t = self._table = table_of(DialogueState)
        cid: BindParameter[str] = bindparam("cid")
        self._select = select(t).where(t.c.conversation_id == cid)
        self._exists = select(t.c.version).where(t.c.conversation_id == cid)
        self._insert = insert(t)
        self._update = update(t).where(t.c.conversation_id == cid, t.c.version == bindparam("old_version"))

    def load(self, cid: str) -> DialogueContext:
        with self._engine.connect() as c:
            row = c.execute(self._select, {"cid": cid}).first()
        if row is None:
            return DialogueContext(cid)
        flow = FlowState.from_json(row.flow) if row.flow else None
        return DialogueContext(cid, row.customer_id, row.verified_by, row.verified_at, flow, row.version)

    def _save_job(self, ctx: DialogueContext) -> Callable[[Connection], DialogueContext]:
        values = {"customer_id": ctx.customer_id, "verified_by": ctx.verified_by, "verified_at": ctx.verified_at,
                  "flow": ctx.flow.to_json() if ctx.flow else None, "version": ctx.version + 1, "updated_at": utcnow()}
        cid = ctx.conversation_id

        def job(c: Connection) -> DialogueContext:
            if ctx.version == 0 and c.execute(self._exists, {"cid": cid}).first() is None:
                c.execute(self._insert, {"conversation_id": cid, **values})
            elif c.execute(self._update, {"cid": cid, "old_version": ctx.version, **values}).rowcount != 1:
                raise StateConflict(cid)
            return replace(ctx, version=ctx.version + 1)
        return job

    def save(self, ctx: DialogueContext) -> DialogueContext:
        return self._writes.run(self._save_job(ctx))

    async def aload(self, cid: str) -> DialogueContext:
        return await asyncio.to_thread(self.load, cid)

    async def asave(self, ctx: DialogueContext) -> DialogueContext:
        return await self._writes.run_async(self._save_job(ctx))
