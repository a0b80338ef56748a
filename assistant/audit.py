"""Append-only audit trail of turns, hand-offs and agent actions, chained with an HMAC.

Each record's hash is HMAC-SHA256, under a key kept outside the database (BANK_AUDIT__KEY or
a key file, see `assistant/audit_anchors.py`), of the previous record's hash and its own
canonical JSON. Whoever can write the database but lacks the key cannot edit, insert or
delete a record and recompute a chain that `bankassist audit verify` accepts; cutting off
the newest records is caught by the anchors file (`bankassist audit anchor`).

Records written before the chain was keyed keep their plain sha256 links: the first keyed
append writes a `chain_keyed` record after them and remembers its id (audit_anchor row 2);
verify checks those older records as plain sha256 and reports how many there are.
Retention purges the oldest records and moves the chain's start forward (audit_anchor row 1),
so what remains still verifies. Payloads hold redacted text only.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, text
from sqlalchemy.orm import sessionmaker

from assistant.audit_anchors import Anchor, AnchorFile, AuditKeyError
from assistant.storage.models import AuditAnchor, AuditRecord, table_of, utcnow

GENESIS = "0" * 64
PURGED_ROW, KEYED_ROW = 1, 2  # audit_anchor rows: where the chain starts; the first keyed record
MIN_KEY_BYTES = 32


@functools.cache
def _head():
    return select(AuditRecord.id, AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)


@functools.cache
def _insert():
    return insert(table_of(AuditRecord))


def _iso(ts: datetime) -> str:
    return (ts if ts.tzinfo else ts.replace(tzinfo=utcnow().tzinfo)).isoformat(timespec="microseconds")


def _body(rid: int, created_at: datetime, kind: str, conversation_id: str | None, payload: dict) -> str:
    return json.dumps({"id": rid, "at": _iso(created_at), "kind": kind, "conversation_id": conversation_id,
                       "payload": payload}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(prev_hash: str, rid: int, created_at: datetime, kind: str, conversation_id: str | None, payload: dict,
                *, key: bytes | None = None) -> str:
    """HMAC-SHA256 under `key`; plain sha256 (records from before the chain was keyed) without one."""
    message = (prev_hash + _body(rid, created_at, kind, conversation_id, payload)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest() if key else hashlib.sha256(message).hexdigest()


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    problem: str = ""
    legacy: int = 0  # records from before the chain was keyed: plain sha256 links only
    anchors: int = 0  # anchors of the anchors file the chain was checked against
    head: tuple[int, str] | None = None  # the last record's id and hash


class AuditLog:
    def __init__(self, sessions: sessionmaker, *, key: bytes, anchors: AnchorFile | None = None) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the audit key must be at least {MIN_KEY_BYTES} bytes")
        self._sessions, self._key, self._anchors = sessions, key, anchors
        self._lock = threading.Lock()  # one appender at a time in this process
        self._keyed = False  # the chain_keyed record is committed (ensure_keyed): appends need not look for it

    def append(self, kind: str, payload: dict, conversation_id: str | None = None) -> int:
        with self._sessions.begin() as s:
            return self.append_in(s.connection(), kind, payload, conversation_id)

    def append_in(self, s: Connection, kind: str, payload: dict, conversation_id: str | None = None) -> int:
        """Append inside the caller's transaction (an action and its record commit together, or neither)."""
        with self._lock:  # one appender at a time in this process
            if s.dialect.name == "postgresql":  # and one at a time across processes
                s.execute(text("SELECT pg_advisory_xact_lock(734200118)"))
            if not self._keyed:
                self._mark_keyed(s)
            return self._write(s, kind, payload, conversation_id)

    def ensure_keyed(self) -> None:
        """Key the chain now (at start), not at the first turn: `audit verify` then accepts it."""
        with self._sessions.begin() as s, self._lock:
            c = s.connection()
            if c.dialect.name == "postgresql":
                c.execute(text("SELECT pg_advisory_xact_lock(734200118)"))
            self._mark_keyed(c)
        self._keyed = True  # committed

    def _write(self, s: Connection, kind: str, payload: dict, conversation_id: str | None) -> int:
        # only the chain's head (id, hash): loading the whole last record would parse its JSON payload
        last = s.execute(_head()).first()
        if last is None:
            start = s.execute(select(AuditAnchor.last_purged_id, AuditAnchor.last_purged_hash)
                              .where(AuditAnchor.id == PURGED_ROW)).first()
            rid, prev = (start.last_purged_id + 1, start.last_purged_hash) if start else (1, GENESIS)
        else:
            rid, prev = last.id + 1, last.hash
        now = utcnow()
        s.execute(_insert(), {  # a prebuilt Core INSERT: one per turn, no ORM unit of work
            "id": rid, "created_at": now, "kind": kind, "conversation_id": conversation_id, "payload": payload,
            "prev_hash": prev, "hash": record_hash(prev, rid, now, kind, conversation_id, payload, key=self._key)})
        return rid

    def _mark_keyed(self, s: Connection) -> None:
        """The first keyed append of a chain writes the `chain_keyed` record and remembers its id."""
        table = table_of(AuditAnchor)
        if s.execute(select(table.c.id).where(table.c.id == KEYED_ROW)).first() is not None:
            return  # (maybe written earlier in this same transaction: only a commit lets `_keyed` cache it)
        rid = self._write(s, "chain_keyed", {"algorithm": "hmac-sha256"}, None)
        prev = s.execute(select(AuditRecord.prev_hash).where(AuditRecord.id == rid)).scalar_one()
        s.execute(insert(table), {"id": KEYED_ROW, "last_purged_id": rid, "last_purged_hash": prev, "purged_at": utcnow()})

    def verify(self) -> Verification:
        """Walk the chain: every link, every HMAC, and every anchor of the anchors file."""
        try:
            anchors = self._anchors.read(self._key) if self._anchors else []
        except AuditKeyError as exc:
            return Verification(False, 0, str(exc))
        with self._sessions() as s:
            start, keyed = s.get(AuditAnchor, PURGED_ROW), s.get(AuditAnchor, KEYED_ROW)
            expected_id, prev = (start.last_purged_id + 1, start.last_purged_hash) if start else (1, GENESIS)
            keyed_from = keyed.last_purged_id if keyed else None
            pinned = {a.record_id: a for a in anchors}
            if start is not None and start.last_purged_id in pinned and pinned[start.last_purged_id].hash != prev:
                return Verification(False, 0, f"the purged record {start.last_purged_id} does not match its anchor")
            checked = legacy = 0
            vouched: tuple | None = None  # (id, hash) the chain's newest keyed purge record says it starts after
            for r in s.scalars(select(AuditRecord).order_by(AuditRecord.id)).yield_per(500):
                if r.id != expected_id:
                    return Verification(False, checked, f"record {expected_id} is missing (next is {r.id})")
                if r.prev_hash != prev:
                    return Verification(False, checked, f"record {r.id} does not follow record {r.id - 1}")
                key = self._key if keyed_from is not None and r.id >= keyed_from else None
                if record_hash(prev, r.id, r.created_at, r.kind, r.conversation_id, r.payload, key=key) != r.hash:
                    return Verification(False, checked, f"record {r.id} was altered (or BANK_AUDIT__KEY is not the chain's key)")
                if r.id in pinned and pinned[r.id].hash != r.hash:
                    return Verification(False, checked, f"record {r.id} differs from its anchor of {pinned[r.id].at}")
                if r.id == keyed_from and r.kind != "chain_keyed":
                    return Verification(False, checked, f"record {r.id} should be the chain_keyed record")
                if r.kind == "purge" and key is not None:
                    vouched = (r.payload.get("through_id"), r.payload.get("through_hash"))
                legacy += key is None
                prev, expected_id, checked = r.hash, r.id + 1, checked + 1
            head_id = expected_id - 1
            if start is not None and (vouched or keyed_from is not None and start.last_purged_id >= keyed_from) \
                    and vouched != (start.last_purged_id, start.last_purged_hash):
                return Verification(False, checked, f"the chain starts after record {start.last_purged_id}, "
                                                    "which no purge record vouches for")
            if keyed_from is not None and keyed_from > head_id and keyed_from > (start.last_purged_id if start else 0):
                return Verification(False, checked, f"the chain_keyed record {keyed_from} is missing")
            if anchors and (latest := max(anchors, key=lambda a: a.record_id)).record_id > head_id:
                return Verification(False, checked, f"records {head_id + 1}..{latest.record_id} were removed "
                                                    f"(the anchor of {latest.at} saw record {latest.record_id})")
            if checked and keyed_from is None:
                return Verification(False, checked, "no chain_keyed record: the chain is not keyed "
                                    "(start the server or run `bankassist audit anchor` to key it)", legacy=legacy)
            return Verification(True, checked, legacy=legacy, anchors=len(anchors),
                                head=(head_id, prev) if checked else None)

    def anchor(self) -> Anchor:
        """Verify, then write the chain's head to the anchors file (and the log): a later verify
        detects any record up to it that was rewritten, and a chain cut short before it."""
        if self._anchors is None:
            raise RuntimeError("no anchors file configured")
        self.ensure_keyed()
        result = self.verify()
        if not result.ok:
            raise ValueError(f"audit chain broken, not anchored: {result.problem}")
        if result.head is None:
            raise ValueError("the audit chain is empty: nothing to anchor")
        return self._anchors.append(self._key, record_id=result.head[0], count=result.checked, head_hash=result.head[1])

    def purge(self, older_than: timedelta) -> int:
        """Delete records older than the retention period. Row 1 of audit_anchor says where the
        chain now starts, and the `purge` record written in the same transaction says it too,
        under the key: verify refuses a start that no purge record vouches for."""
        cutoff = utcnow() - older_than
        with self._sessions.begin() as s, self._lock:  # the writers' lock before ours, as appenders take them
            c = s.connection()
            if c.dialect.name == "postgresql":
                c.execute(text("SELECT pg_advisory_xact_lock(734200118)"))
            if not self._keyed:
                self._mark_keyed(c)
            last_old = s.scalars(select(AuditRecord).where(AuditRecord.created_at < cutoff)
                                 .order_by(AuditRecord.id.desc()).limit(1)).first()
            if last_old is None:
                return 0
            n = s.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.id <= last_old.id))
            start = s.get(AuditAnchor, PURGED_ROW) or AuditAnchor(id=PURGED_ROW)
            start.last_purged_id, start.last_purged_hash, start.purged_at = last_old.id, last_old.hash, utcnow()
            s.merge(start)
            s.flush()
            s.execute(delete(AuditRecord).where(AuditRecord.id <= last_old.id))
            self._write(c, "purge", {"purged_records": int(n), "older_than_days": older_than.days,
                                     "through_id": last_old.id, "through_hash": last_old.hash}, None)
        return int(n)
