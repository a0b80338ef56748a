"""A conversation's dialogue state (verified customer, flow in progress) and where it is kept."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import insert, select, update
from sqlalchemy.orm import sessionmaker

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
    """Loads and saves DialogueContext; a save with a stale version raises StateConflict."""

    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions
        self._table = table_of(DialogueState)

    def load(self, cid: str) -> DialogueContext:
        with self._sessions() as s:
            row = s.execute(select(self._table).where(self._table.c.conversation_id == cid)).first()
        if row is None:
            return DialogueContext(cid)
        flow = FlowState.from_json(row.flow) if row.flow else None
        return DialogueContext(cid, row.customer_id, row.verified_by, row.verified_at, flow, row.version)

    def save(self, ctx: DialogueContext) -> DialogueContext:
        t = self._table
        values = {"customer_id": ctx.customer_id, "verified_by": ctx.verified_by, "verified_at": ctx.verified_at,
                  "flow": ctx.flow.to_json() if ctx.flow else None, "version": ctx.version + 1, "updated_at": utcnow()}
        with self._sessions.begin() as s:
            if ctx.version == 0 and s.get(DialogueState, ctx.conversation_id) is None:
                s.execute(insert(t).values(conversation_id=ctx.conversation_id, **values))
            else:
                done = s.execute(update(t).where(t.c.conversation_id == ctx.conversation_id,
                                                 t.c.version == ctx.version).values(**values))
                if done.rowcount != 1:
                    raise StateConflict(ctx.conversation_id)
        return replace(ctx, version=ctx.version + 1)

    async def aload(self, cid: str) -> DialogueContext:
        return await asyncio.to_thread(self.load, cid)

    async def asave(self, ctx: DialogueContext) -> DialogueContext:
        return await asyncio.to_thread(self.save, ctx)
