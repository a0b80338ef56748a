"""Shared set-up for the sandbox bank's tests: a fresh seeded bank on a clock the test moves."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from sqlalchemy import func, select

from sandbox_bank import models as m
from sandbox_bank.config import SandboxConfig
from sandbox_bank.db import Database
from sandbox_bank.ledger import balance
from sandbox_bank.seed import reset

START = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # a Tuesday
PG = "postgresql://postgres@127.0.0.1:5432/test"


class Clock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Sandbox:
    cfg: SandboxConfig
    db: Database
    clock: Clock


def make_sandbox(data_dir: Path, *, db_url: str | None = None, **overrides) -> Sandbox:
    clock = Clock()
    cfg = SandboxConfig(data_dir=data_dir, db_url=db_url, clock=clock, **overrides)
    db = Database(cfg.sqlalchemy_url)
    reset(db, cfg)
    return Sandbox(cfg, db, clock)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """An ASGI app served by uvicorn in a thread on a free port (a real socket, a real HTTP stack)."""

    def __init__(self, app, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # No log_level: uvicorn would set it on its loggers for the whole process (a test of the API's own
        # access log would then see nothing); no access log for the bank.
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, log_level=None,
                                                    access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def check_ledger(db) -> None:
    """Every entry sums to zero; every posted statement line matches its posting; no customer account
    is below zero; a balance is the sum of its postings."""
    with db.transaction() as s:
        sums = s.execute(select(m.Posting.entry_id, func.sum(m.Posting.amount_cents))
                         .group_by(m.Posting.entry_id)).all()
        assert sums and all(total == 0 for _, total in sums)
        for txn in s.scalars(select(m.Txn).where(m.Txn.status == "posted")):
            posting = s.scalar(select(m.Posting.amount_cents).where(m.Posting.entry_id == txn.entry_id,
                                                                     m.Posting.account_id == txn.account_id))
            assert posting == txn.amount_cents, txn.id
        for txn in s.scalars(select(m.Txn).where(m.Txn.status != "posted")):
            assert txn.entry_id is None, txn.id  # pending, declined, failed: no money moved
        for acc in s.scalars(select(m.LedgerAccount).where(m.LedgerAccount.kind != "gl")):
            total = s.scalar(select(func.coalesce(func.sum(m.Posting.amount_cents), 0))
                             .where(m.Posting.account_id == acc.id))
            assert balance(s, acc.id) == total >= 0, acc.id
