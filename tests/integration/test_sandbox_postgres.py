"""The sandbox bank on PostgreSQL (127.0.0.1:5432, db test): 50 concurrent transfers never overdraw
or double-post (row locks, SELECT ... FOR UPDATE), and concurrent retries of one key run once."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select, text

from sandbox_bank import idempotency, transfers
from sandbox_bank import models as m
from sandbox_bank import schemas as api
from sandbox_bank.db import make_engine
from sandbox_bank.errors import BankError
from sandbox_bank.ledger import available, balance
from tests.banking_helpers import PG, check_ledger, make_sandbox

pytestmark = pytest.mark.postgres


@pytest.fixture
def bank(tmp_path):
    schema = f"sandbox_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    sandbox = make_sandbox(tmp_path, db_url=f"{PG}?options=-csearch_path%3D{schema}")
    assert sandbox.db.is_postgres
    yield sandbox
    sandbox.db.dispose()
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def concurrently(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def one(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BankError as err:
            results[i] = err.code
        except Exception as exc:  # anything else is a bug the test reports
            results[i] = f"crash: {exc!r}"

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def send(bank, key: str, cents: int) -> int:
    body = api.TransferIn(from_account_id="acc_alex_chk", to_account_id="acc_alex_sav",
                          amount=api.Money(amount_cents=cents, currency="USD"))
    out = idempotency.run(bank.db, bank.cfg, "cus_alex", key, idempotency.request_hash("transfer", body.model_dump()),
                          lambda s: (201, transfers.execute(s, bank.cfg, "cus_alex", body).model_dump(mode="json")))
    return out.status


def test_50_concurrent_transfers_never_overdraw(bank):
    with bank.db.transaction() as s:
        start = available(s, "acc_alex_chk")
    slice_ = start // 20 + 1  # only 19 fit
    results = concurrently(50, lambda i: send(bank, f"k{i}", slice_))
    counts = Counter(results)
    assert counts == {201: 19, 422: 31}, counts  # 422: insufficient_funds
    with bank.db.transaction() as s:
        assert 0 <= available(s, "acc_alex_chk") == start - 19 * slice_
        assert balance(s, "acc_alex_chk") >= 0
    check_ledger(bank.db)


def test_concurrent_retries_of_one_key_post_once(bank):
    with bank.db.transaction() as s:
        before = balance(s, "acc_alex_sav")
    results = concurrently(50, lambda i: send(bank, "the-one-key", 5_000))
    assert results == [201] * 50
    with bank.db.transaction() as s:
        assert balance(s, "acc_alex_sav") == before + 5_000
        assert s.scalar(select(func.count()).select_from(m.IdempotencyRecord)) == 1
    check_ledger(bank.db)


def test_replay_store_on_postgres():
    """The assistant's table of used assertions (migration 0006) on PostgreSQL: one process's jti
    is a replay for another's."""
    from datetime import UTC, datetime, timedelta

    from assistant.banking.identity import SqlReplayStore
    from assistant.storage.db import make_engine as assistant_engine
    from assistant.storage.db import migrate, session_factory

    schema = f"replay_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        url = f"{PG}?options=-csearch_path%3D{schema}"
        engine = assistant_engine(url)
        migrate(engine)
        a, b = SqlReplayStore(session_factory(engine)), SqlReplayStore(session_factory(assistant_engine(url)))
        exp = datetime.now(UTC) + timedelta(minutes=5)
        assert a.remember("iss|jti-1", exp) is True
        assert b.remember("iss|jti-1", exp) is False
    finally:
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
