"""Sandbox bank: the double-entry ledger, transfers and their refusals, idempotency, concurrency on SQLite."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sandbox_bank import models as m
from sandbox_bank.app import create_app
from sandbox_bank.ledger import balance
from sandbox_bank.seed import reset
from tests.banking_helpers import check_ledger, make_sandbox

ALEX = "/v1/customers/cus_alex"


@pytest.fixture
def bank(tmp_path):
    return make_sandbox(tmp_path)


@pytest.fixture
def client(bank):
    return TestClient(create_app(bank.cfg, db=bank.db))


def transfer(client, key: str | None = "k1", customer: str = ALEX, **body):
    body = {"from_account_id": "acc_alex_chk", "to_account_id": "acc_alex_sav",
            "amount": {"amount_cents": 1000, "currency": "USD"}} | body
    return client.post(f"{customer}/transfers", json=body, headers={"Idempotency-Key": key} if key else {})


def snapshot(db) -> list:
    with db.transaction() as s:
        return [sorted((r.id, r.account_id, r.created_at, r.status, r.amount_cents, r.description)
                       for r in s.scalars(select(m.Txn))),
                sorted((c.id, c.status, c.last4) for c in s.scalars(select(m.Card)))]


def test_seed_is_deterministic_and_balanced(bank):
    check_ledger(bank.db)
    first = snapshot(bank.db)
    reset(bank.db, bank.cfg)
    assert snapshot(bank.db) == first
    with bank.db.transaction() as s:
        statuses = Counter(s.scalars(select(m.Txn.status)))
        cards = Counter(s.scalars(select(m.Card.status)))
        payees = set(s.scalars(select(m.Payee.name).where(m.Payee.customer_id == "cus_alex")))
        days = {t.date() for t in s.scalars(select(m.Txn.created_at).where(m.Txn.customer_id == "cus_alex"))}
    assert {"posted", "pending", "declined", "failed"} <= set(statuses)
    assert {"active", "frozen", "inactive", "lost", "stolen"} <= set(cards)
    assert {"Maria Lopez", "Mario Lopez", "Oak Street Properties", "Oak Street Parking"} <= payees
    assert len(days) > 60 and max(days) < bank.clock.now.date()


def test_balance_is_the_sum_of_postings_after_transfers(bank, client):
    before = {a["id"]: a["balance"]["amount_cents"] for a in client.get(f"{ALEX}/accounts").json()}
    r = transfer(client, amount={"amount_cents": 12_345, "currency": "USD"})
    assert r.status_code == 201 and r.json()["status"] == "completed"
    after = {a["id"]: a["balance"]["amount_cents"] for a in client.get(f"{ALEX}/accounts").json()}
    assert after["acc_alex_chk"] == before["acc_alex_chk"] - 12_345
    assert after["acc_alex_sav"] == before["acc_alex_sav"] + 12_345
    check_ledger(bank.db)


def test_unbalanced_entry_is_refused(bank):
    from sandbox_bank.ledger import post

    with pytest.raises(ValueError), bank.db.transaction() as s:
        post(s, kind="x", description="x", at=bank.clock.now, legs=[("acc_alex_chk", 100), ("gl_funding", -99)])


@pytest.mark.parametrize("amount, code", [
    ({"amount_cents": 0, "currency": "USD"}, "invalid_amount"),
    ({"amount_cents": -500, "currency": "USD"}, "invalid_amount"),
    ({"amount_cents": "twelve", "currency": "USD"}, "invalid_amount"),
    ({"amount_cents": 12.5, "currency": "USD"}, "invalid_amount"),
    ({"amount_cents": 1000, "currency": "EUR"}, "currency_mismatch"),
    ({"amount_cents": 1000, "currency": "usd"}, "invalid_request"),
])
def test_bad_amounts_are_refused_and_nothing_moves(bank, client, amount, code):
    before = snapshot(bank.db)
    r = transfer(client, amount=amount)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code
    assert snapshot(bank.db) == before


def test_over_balance_and_over_limit(bank, client):
    accounts = {a["id"]: a for a in client.get(f"{ALEX}/accounts").json()}
    available = accounts["acc_alex_chk"]["available"]["amount_cents"]
    r = transfer(client, "over-balance", amount={"amount_cents": available + 1, "currency": "USD"})
    assert r.status_code == 422 and r.json()["code"] == "insufficient_funds"
    assert r.json()["available_cents"] == available
    r = transfer(client, "exactly", amount={"amount_cents": available, "currency": "USD"})
    assert r.status_code == 201  # the whole available balance may move; one cent more may not
    r = transfer(client, "over-limit", from_account_id="acc_alex_sav", to_account_id="acc_alex_chk",
                 amount={"amount_cents": bank.cfg.single_transfer_limit_cents + 1, "currency": "USD"})
    assert r.status_code == 422 and r.json()["code"] == "limit_exceeded"
    check_ledger(bank.db)


def test_unknown_payee_account_and_same_account(client):
    r = transfer(client, "p", to_account_id=None, payee_id="pay_nobody")
    assert r.status_code == 404 and r.json()["code"] == "unknown_payee"
    r = transfer(client, "p2", to_account_id=None, payee_id="pay_priya_1")  # another customer's payee
    assert r.status_code == 404 and r.json()["code"] == "unknown_payee"
    r = transfer(client, "a", to_account_id="acc_priya_sav")  # another customer's account
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = transfer(client, "s", to_account_id="acc_alex_chk")
    assert r.status_code == 422 and r.json()["code"] == "same_account"
    r = transfer(client, "both", payee_id="pay_alex_1")
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
    r = transfer(client, None)
    assert r.status_code == 400 and r.json()["code"] == "idempotency_key_missing"


def test_same_key_executes_once_and_returns_the_same_result(bank, client):
    first = transfer(client, "retry-me")
    second = transfer(client, "retry-me")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert (first.headers["idempotent-replayed"], second.headers["idempotent-replayed"]) == ("false", "true")
    with bank.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(m.Transfer).where(m.Transfer.id == first.json()["id"])) == 1
        assert s.scalar(select(func.count()).select_from(m.Txn).where(m.Txn.transfer_id == first.json()["id"])) == 2
    other = transfer(client, "retry-me", amount={"amount_cents": 999, "currency": "USD"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"


def test_a_refusal_is_remembered_under_its_key(client):
    big = {"amount_cents": 10**9, "currency": "USD"}
    first = transfer(client, "too-much", amount=big, from_account_id="acc_alex_sav", to_account_id="acc_alex_chk")
    again = transfer(client, "too-much", amount=big, from_account_id="acc_alex_sav", to_account_id="acc_alex_chk")
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"


def test_50_concurrent_transfers_never_overdraw_or_double_post(bank, client):
    """50 threads, 25 keys each sent twice, each moving a bit more than 1/20 of what checking holds:
    exactly 19 keys move money, each once, and the account never goes below zero."""
    available = {a["id"]: a for a in client.get(f"{ALEX}/accounts").json()}["acc_alex_chk"]["available"]["amount_cents"]
    slice_ = available // 20 + 1  # 20 slices would overdraw by 20 cents: only 19 may go through
    results: list = []

    def one(i: int) -> None:
        results.append((i % 25, transfer(client, f"conc-{i % 25}", amount={"amount_cents": slice_, "currency": "USD"})))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = {k: r.json()["id"] for k, r in results if r.status_code == 201}
    statuses = Counter(r.status_code for _, r in results)
    assert set(statuses) <= {201, 422}, statuses
    assert len(ok) == 19  # 19 distinct keys moved money; the rest were refused for funds
    for key, r in results:  # both requests with one key got the same answer
        if key in ok:
            assert r.status_code == 201 and r.json()["id"] == ok[key]
    with bank.db.transaction() as s:
        assert balance(s, "acc_alex_chk") >= 0
        posted = s.scalar(select(func.count()).select_from(m.Transfer).where(m.Transfer.id.in_(ok.values())))
        assert posted == 19
    check_ledger(bank.db)


def test_api_token_when_configured(tmp_path):
    import dataclasses

    bank = make_sandbox(tmp_path)
    client = TestClient(create_app(dataclasses.replace(bank.cfg, api_token="svc-token-0123456789abcdef"), db=bank.db))
    r = client.get(f"{ALEX}/accounts")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert client.get(f"{ALEX}/accounts", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get(f"{ALEX}/accounts", headers={"Authorization": "Bearer svc-token-0123456789abcdef"}).status_code == 200
    assert client.get("/sandbox/outbox/cus_alex").status_code == 401  # the codes sent are not public either
    assert client.get("/.well-known/jwks.json").status_code == 200  # public keys are


def test_production_refuses_a_placeholder_banking_token():
    from pydantic import ValidationError

    from assistant.config import Settings

    with pytest.raises(ValidationError, match="BANK_BANKING__API_TOKEN"):
        Settings(environment="production", _env_file=None, banking={"api_token": "changeme"})


def test_an_amount_bound_past_the_database_integer_is_a_422(tmp_path):
    """Found by the stateful fuzz (tests/integration/test_banking_fuzz.py): it was an OverflowError (500)."""
    from fastapi.testclient import TestClient

    from sandbox_bank.app import create_app
    from tests.banking_helpers import make_sandbox

    bank = make_sandbox(tmp_path)
    with TestClient(create_app(bank.cfg, db=bank.db)) as c:
        r = c.get("/v1/customers/cus_alex/transactions", params={"min_amount_cents": 70921627746877503963136})
        assert r.status_code == 422 and r.json()["code"] == "invalid_amount"
        r = c.get("/v1/customers/cus_alex/transactions", params={"max_amount_cents": 2**53 - 1})
        assert r.status_code == 200
