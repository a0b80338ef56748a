"""Append-only, hash-chained audit trail of turns, hand-offs and agent actions.

Each record's hash covers the previous record's hash and its own canonical JSON, so any
edit, insertion or deletion breaks the chain at that point (`bankassist audit verify`).
Retention purges the oldest records and moves the chain's anchor forward, so what
remains still verifies. Payloads hold redacted text only.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, text
from sqlalchemy.orm import sessionmaker

from assistant.storage.models import AuditAnchor, AuditRecord, utcnow

GENESIS = "0" * 64


@functools.cache
def _head():
    return select(AuditRecord.id, AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)


@functools.cache
def _insert():
    return insert(AuditRecord.__table__)


def _iso(ts: datetime) -> str:
    return (ts if ts.tzinfo else ts.replace(tzinfo=utcnow().tzinfo)).isoformat(timespec="microseconds")


def record_hash(prev_hash: str, rid: int, created_at: datetime, kind: str, conversation_id: str | None, payload: dict) -> str:
    body = json.dumps({"id": rid, "at": _iso(created_at), "kind": kind, "conversation_id": conversation_id,
                       "payload": payload}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    problem: str = ""


class AuditLog:
    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions
        self._lock = threading.Lock()  # one appender at a time in this process

    def append(self, kind: str, payload: dict, conversation_id: str | None = None) -> int:
        with self._sessions.begin() as s:
            return self.append_in(s.connection(), kind, payload, conversation_id)

    def append_in(self, s: Connection, kind: str, payload: dict, conversation_id: str | None = None) -> int:
        """Append inside the caller's transaction (a turn's reply and its record commit together)."""
        with self._lock:  # one appender at a time in this process
            if s.dialect.name == "postgresql":  # and one at a time across processes
                s.execute(text("SELECT pg_advisory_xact_lock(734200118)"))
            # only the chain's head (id, hash): loading the whole last record would parse its JSON payload
            last = s.execute(_head()).first()
            if last is None:
                anchor = s.execute(select(AuditAnchor.last_purged_id, AuditAnchor.last_purged_hash)
                                   .where(AuditAnchor.id == 1)).first()
                rid, prev = (anchor.last_purged_id + 1, anchor.last_purged_hash) if anchor else (1, GENESIS)
            else:
                rid, prev = last.id + 1, last.hash
            now = utcnow()
            s.execute(_insert(), {  # a prebuilt Core INSERT: one per turn, no ORM unit of work
                "id": rid, "created_at": now, "kind": kind, "conversation_id": conversation_id, "payload": payload,
                "prev_hash": prev, "hash": record_hash(prev, rid, now, kind, conversation_id, payload)})
            return rid

    def verify(self) -> Verification:
        with self._sessions() as s:
            anchor = s.get(AuditAnchor, 1)
            expected_id, prev = (anchor.last_purged_id + 1, anchor.last_purged_hash) if anchor else (1, GENESIS)
            checked = 0
            for r in s.scalars(select(AuditRecord).order_by(AuditRecord.id)).yield_per(500):
                if r.id != expected_id:
                    return Verification(False, checked, f"record {expected_id} is missing (next is {r.id})")
                if r.prev_hash != prev:
                    return Verification(False, checked, f"record {r.id} does not follow record {r.id - 1}")
                if record_hash(prev, r.id, r.created_at, r.kind, r.conversation_id, r.payload) != r.hash:
                    return Verification(False, checked, f"record {r.id} was altered")
                prev, expected_id, checked = r.hash, r.id + 1, checked + 1
            return Verification(True, checked)

    def purge(self, older_than: timedelta) -> int:
        """Delete records older than the retention period; the anchor keeps the chain verifiable."""
        cutoff = utcnow() - older_than
        with self._lock, self._sessions.begin() as s:
            last_old = s.scalars(select(AuditRecord).where(AuditRecord.created_at < cutoff)
                                 .order_by(AuditRecord.id.desc()).limit(1)).first()
            if last_old is None:
                return 0
            n = s.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.id <= last_old.id))
            anchor = s.get(AuditAnchor, 1) or AuditAnchor(id=1)
            anchor.last_purged_id, anchor.last_purged_hash, anchor.purged_at = last_old.id, last_old.hash, utcnow()
            s.merge(anchor)
            s.execute(delete(AuditRecord).where(AuditRecord.id <= last_old.id))
        self.append("purge", {"purged_records": int(n), "older_than_days": older_than.days})
        return int(n)
