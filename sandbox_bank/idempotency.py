"""Idempotency-Key: the first request with a key runs; every retry with that key and the same body
gets the first result back (success or refusal) without running again; the same key with another
body is refused. The key's row is written in the action's own transaction: if the action rolls
back, so does the key, and a retry runs it afresh."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sandbox_bank.config import SandboxConfig
from sandbox_bank.db import Database
from sandbox_bank.errors import BankError
from sandbox_bank.models import IdempotencyRecord


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool


def request_hash(operation: str, body: Any) -> str:
    return hashlib.sha256(json.dumps([operation, body], sort_keys=True, default=str).encode()).hexdigest()


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise BankError("idempotency_key_missing")
    if len(key) > 128 or not key.isprintable():
        raise BankError("invalid_request", "Idempotency-Key must be 1-128 printable characters")
    return key


def _replay(record: IdempotencyRecord, digest: str) -> Outcome:
    if record.request_hash != digest:
        raise BankError("idempotency_conflict")
    return Outcome(record.status_code, record.response, True)


def run(db: Database, cfg: SandboxConfig, customer_id: str, key: str | None, digest: str,
        action: Callable[[Session], tuple[int, dict[str, Any]]]) -> Outcome:
    key = check_key(key)
    pk = (customer_id, key)
    try:
        with db.transaction() as s:
            if (record := s.get(IdempotencyRecord, pk)) is not None:
                return _replay(record, digest)
            record = IdempotencyRecord(customer_id=customer_id, key=key, request_hash=digest, status_code=0,
                                       response={}, created_at=cfg.now())
            s.add(record)
            s.flush()  # PostgreSQL: a concurrent request with this key waits here, then fails on the key
            status, body = action(s)
            record.status_code, record.response = status, body
            return Outcome(status, body, False)
    except IntegrityError:  # the same key committed by a concurrent request first
        pass
    except BankError as refusal:
        if refusal.code in ("not_found", "idempotency_conflict"):
            raise
        return _remember_refusal(db, cfg, customer_id, key, digest, refusal)
    with db.transaction() as s:
        if (record := s.get(IdempotencyRecord, pk)) is None:  # another key's action took what this one needed
            raise BankError("conflict", "a concurrent request changed the same thing; read it and try again")
        return _replay(record, digest)


def _remember_refusal(db: Database, cfg: SandboxConfig, customer_id: str, key: str, digest: str,
                      refusal: BankError) -> Outcome:
    """A refused action (insufficient funds, over a limit) answers its retries with the same refusal."""
    try:
        with db.transaction() as s:
            if (record := s.get(IdempotencyRecord, (customer_id, key))) is not None:
                return _replay(record, digest)
            s.add(IdempotencyRecord(customer_id=customer_id, key=key, request_hash=digest, status_code=refusal.status,
                                    response=refusal.problem(), created_at=cfg.now()))
    except IntegrityError:
        with db.transaction() as s:
            if (record := s.get(IdempotencyRecord, (customer_id, key))) is None:
                raise BankError("conflict", "a concurrent request changed the same thing; read it and try again") from None
            return _replay(record, digest)
    return Outcome(refusal.status, refusal.problem(), False)
