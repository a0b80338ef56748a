"""HttpBankingBackend against the real sandbox bank served by uvicorn on a free port: typed reads,
typed refusals, idempotent retries, a bank that is down (circuit breaker) and one that times out
in the middle of a transfer (the transfer happens once or not at all; a retry with the key settles it)."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from assistant.banking import BackendUnavailable, BankingError, CircuitBreaker, HttpBankingBackend, new_idempotency_key
from assistant.banking.types import Money, TransactionQuery
from sandbox_bank import models as m
from sandbox_bank.app import create_app
from tests.banking_helpers import ServerThread, free_port, make_sandbox

ALEX = "cus_alex"


class Faults:
    """In front of the bank: refuse the next POST /transfers with 503 before the bank sees it, or let
    the bank finish it and hold the answer back (a timeout after the work was done)."""

    def __init__(self, app) -> None:
        self.app = app
        self.fail_next = 0
        self.delay_next_s = 0.0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].endswith("/transfers"):
            if self.fail_next:
                self.fail_next -= 1
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            if self.delay_next_s:
                delay, self.delay_next_s = self.delay_next_s, 0.0
                held = []

                async def hold(message):
                    held.append(message)

                await self.app(scope, receive, hold)
                await asyncio.sleep(delay)
                try:
                    for message in held:
                        await send(message)
                except Exception:  # the client gave up
                    pass
                return
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    return make_sandbox(tmp_path_factory.mktemp("bank"))


@pytest.fixture(scope="module")
def server(bank):
    faults = Faults(create_app(bank.cfg, db=bank.db))
    with ServerThread(faults) as srv:
        srv.faults = faults
        yield srv


def backend(url: str, **kw) -> HttpBankingBackend:
    return HttpBankingBackend(url, **{"timeout_s": 5, "retries": 2, "backoff_s": 0.01} | kw)


def run(coro):
    return asyncio.run(coro)


def transfers_with_memo(bank, memo: str) -> int:
    with bank.db.transaction() as s:
        return s.scalar(select(func.count()).select_from(m.Transfer).where(m.Transfer.memo == memo))


def test_typed_reads(server):
    b = backend(server.url)

    async def go():
        accounts = await b.accounts(ALEX)
        page = await b.transactions(ALEX, TransactionQuery(merchant="netflix", limit=5))
        payees = await b.payees(ALEX)
        cards = await b.cards(ALEX)
        delivery = await b.card_delivery(ALEX, "card_alex_new")
        pending = await b.transfers("cus_priya", status="pending")
        return accounts, page, payees, cards, delivery, pending

    accounts, page, payees, cards, delivery, pending = run(go())
    checking = next(a for a in accounts if a.type == "checking")
    assert checking.last4 == "4821" and isinstance(checking.balance.amount_cents, int)
    assert isinstance(checking.balance.amount, Decimal)
    assert page.items and all(t.merchant == "Netflix" for t in page.items)
    assert {"Maria Lopez", "Oak Street Properties"} <= {p.name for p in payees}
    assert {c.status for c in cards} >= {"active", "frozen", "inactive", "lost"}
    assert delivery.status == "shipped" and delivery.estimated_delivery is not None
    assert pending[0].status == "pending"


def test_transfer_then_retry_with_the_same_key(bank, server):
    b = backend(server.url)
    key = new_idempotency_key()

    async def go():
        first = await b.transfer(ALEX, from_account_id="acc_alex_chk", to_account_id="acc_alex_sav",
                                 amount=Money.of("12.34"), memo="same-key", idempotency_key=key)
        again = await b.transfer(ALEX, from_account_id="acc_alex_chk", to_account_id="acc_alex_sav",
                                 amount=Money.of("12.34"), memo="same-key", idempotency_key=key)
        return first, again

    first, again = run(go())
    assert first == again and first.amount.amount_cents == 1234 and first.status == "completed"
    assert transfers_with_memo(bank, "same-key") == 1


@pytest.mark.parametrize("amount, code", [(0, "invalid_amount"), (-100, "invalid_amount"),
                                          (10**6 + 1, "limit_exceeded"), (900_000, "insufficient_funds")])
def test_refusals_come_back_typed(server, amount, code):
    b = backend(server.url)
    with pytest.raises(BankingError) as exc:
        run(b.transfer(ALEX, from_account_id="acc_alex_chk", to_account_id="acc_alex_sav",
                       amount=Money(amount_cents=amount), idempotency_key=new_idempotency_key()))
    assert exc.value.code == code
    if code == "insufficient_funds":
        assert exc.value.available_cents > 0


def test_money_is_never_a_float():
    with pytest.raises(TypeError):
        Money.of(12.5)
    with pytest.raises(ValueError):
        Money.of("1.005")
    assert Money.of("1,200.50".replace(",", "")).amount_cents == 120050


def test_unknown_payee_and_step_up_with_codes(bank, server):
    b = backend(server.url)

    async def outbox_code(otp_id: str) -> str:
        async with httpx.AsyncClient() as http:
            msgs = (await http.get(f"{server.url}/sandbox/outbox/{ALEX}")).json()
        return next(msg["code"] for msg in msgs if msg["otp_id"] == otp_id)

    async def go():
        with pytest.raises(BankingError) as unknown:
            await b.transfer(ALEX, from_account_id="acc_alex_chk", payee_id="pay_nobody", amount=Money.of(5),
                             idempotency_key=new_idempotency_key())
        assert unknown.value.code == "unknown_payee"
        challenge = await b.send_otp(ALEX, purpose="transfer")
        code = await outbox_code(challenge.id)
        with pytest.raises(BankingError) as bad:
            await b.verify_otp(ALEX, challenge.id, f"{(int(code) + 1) % 10**6:06d}")
        assert bad.value.code == "otp_invalid" and bad.value.attempts_left == 2
        assert (await b.verify_otp(ALEX, challenge.id, code)).verified
        sent = await b.transfer(ALEX, from_account_id="acc_alex_chk", payee_id="pay_alex_1", amount=Money.of(25),
                                otp_id=challenge.id, memo="to-maria", idempotency_key=new_idempotency_key())
        assert sent.status == "pending" and sent.expected_arrival is not None
        expiring = await b.send_otp("cus_priya", purpose="contact_update")
        bank.clock.advance(seconds=bank.cfg.otp_ttl_s + 1)
        try:
            with pytest.raises(BankingError) as expired:
                await b.verify_otp("cus_priya", expiring.id, "000000")
        finally:
            bank.clock.advance(seconds=-(bank.cfg.otp_ttl_s + 1))
        assert expired.value.code == "otp_expired"
        locked = await b.send_otp("cus_jordan", purpose="transfer")
        codes = []
        for _ in range(3):
            with pytest.raises(BankingError) as exc:
                await b.verify_otp("cus_jordan", locked.id, "999999x")
            codes.append(exc.value.code)
        assert codes == ["otp_invalid", "otp_invalid", "otp_locked"]

    run(go())
    assert transfers_with_memo(bank, "to-maria") == 1


def test_a_bank_that_is_down_opens_the_circuit_then_recovers(bank):
    port = free_port()  # nothing listens here yet
    b = backend(f"http://127.0.0.1:{port}", retries=1, breaker=CircuitBreaker(failure_threshold=2, reset_after_s=0.5))
    for _ in range(2):
        with pytest.raises(BackendUnavailable) as exc:
            run(b.accounts(ALEX))
        assert exc.value.reason == "unreachable"
    t0 = time.perf_counter()
    with pytest.raises(BackendUnavailable) as exc:
        run(b.accounts(ALEX))
    assert exc.value.reason == "circuit_open" and time.perf_counter() - t0 < 0.2  # no waiting on a dead bank
    with ServerThread(create_app(bank.cfg, db=bank.db), port=port):
        time.sleep(0.5)
        assert b.breaker.state == "half_open"
        assert run(b.accounts(ALEX))  # the trial call succeeds and closes the circuit
        assert b.breaker.state == "closed"


def test_timeout_mid_transfer_then_the_same_key_settles_it(bank, server):
    """The bank posts the transfer but its answer comes too late: the client reports the bank
    unavailable (not 'failed'), the money moved exactly once, and asking again with the same key
    returns that transfer instead of making a second one."""
    b = backend(server.url, timeout_s=0.4, retries=0)
    key = new_idempotency_key()
    args = dict(from_account_id="acc_alex_chk", to_account_id="acc_alex_sav", amount=Money.of("7.77"),
                memo="slow-bank", idempotency_key=key)
    server.faults.delay_next_s = 1.5
    with pytest.raises(BackendUnavailable) as exc:
        run(b.transfer(ALEX, **args))
    assert exc.value.reason == "timeout"
    deadline = time.monotonic() + 10
    while transfers_with_memo(bank, "slow-bank") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)  # the bank finishes its side (it did the work before holding the answer back)
    assert transfers_with_memo(bank, "slow-bank") == 1
    settled = run(b.transfer(ALEX, **args))
    assert settled.memo == "slow-bank" and transfers_with_memo(bank, "slow-bank") == 1


def test_timeout_is_retried_by_the_client_with_the_same_key(bank, server):
    b = backend(server.url, timeout_s=0.4, retries=2)
    server.faults.delay_next_s = 1.0
    result = run(b.transfer(ALEX, from_account_id="acc_alex_chk", to_account_id="acc_alex_sav",
                            amount=Money.of("3.21"), memo="auto-retry", idempotency_key=new_idempotency_key()))
    assert result.status == "completed"
    time.sleep(0.8)
    assert transfers_with_memo(bank, "auto-retry") == 1


def test_503_before_the_bank_acts_is_retried_and_posts_once(bank, server):
    b = backend(server.url, retries=2)
    server.faults.fail_next = 2
    result = run(b.transfer(ALEX, from_account_id="acc_alex_chk", to_account_id="acc_alex_sav",
                            amount=Money.of("1.11"), memo="after-503", idempotency_key=new_idempotency_key()))
    assert result.status == "completed" and transfers_with_memo(bank, "after-503") == 1


def test_503_with_no_retries_left_is_unavailable_and_nothing_moved(bank, server):
    b = backend(server.url, retries=1)
    server.faults.fail_next = 2
    with pytest.raises(BackendUnavailable) as exc:
        run(b.transfer(ALEX, from_account_id="acc_alex_chk", to_account_id="acc_alex_sav", amount=Money.of("2.22"),
                       memo="never", idempotency_key=new_idempotency_key()))
    assert exc.value.reason == "server_error" and transfers_with_memo(bank, "never") == 0


def test_ids_cannot_steer_the_url(server):
    b = backend(server.url)
    with pytest.raises(BankingError) as exc:
        run(b.account(ALEX, "../../customers/cus_priya/accounts/acc_priya_chk"))
    assert exc.value.code == "not_found"
