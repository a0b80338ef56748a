"""The flow runner against a bank that implements FlowActions in memory: read-back before any
change, corrections void a yes, one-time codes lock after three wrong tries, cancel leaves nothing done."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest

from assistant.dialogue.actions import PARTS, AccountInfo, ActionOutcome, CardInfo, CustomerData
from assistant.dialogue.flows import load_flows
from assistant.dialogue.runner import FlowRunner


class MemoryBank:
    """FlowActions over two accounts, two cards and three payees; records every executed action."""

    names = frozenset({"transfer", "freeze_card", "balance"})

    def __init__(self) -> None:
        self.balances = {"a1": Decimal("1000.00"), "a2": Decimal("50.00")}
        self.executed: list[tuple[str, dict, str]] = []
        self.keys: dict[str, ActionOutcome] = {}
        self.code, self.codes_sent = "552199", 0

    async def customer(self, customer_id: str, needs=PARTS, *, conversation=None) -> CustomerData:
        return CustomerData(
            accounts=(AccountInfo("a1", "checking", "4821", f"${self.balances['a1']:,}"),
                      AccountInfo("a2", "savings", "1234", f"${self.balances['a2']:,}")),
            cards=(CardInfo("c1", "9876", "debit", "active"), CardInfo("c2", "5555", "credit", "active")),
            payees={"p1": "Maria Lopez (sister)", "p2": "Oak Street Properties (landlord)", "p3": "Carlos Lopez"},
        )

    async def run(self, name, *, customer_id, args, key):
        if key in self.keys:  # idempotent: a retried confirmation executes once
            return self.keys[key]
        amount = Decimal(args["amount"]["amount"]) if "amount" in args else None
        if name == "transfer" and amount > self.balances[args["from_account"]["id"]]:
            out = ActionOutcome("insufficient_funds", {"available": f"${self.balances[args['from_account']['id']]:,}"})
        else:
            if name == "transfer":
                self.balances[args["from_account"]["id"]] -= amount
                if args["to"].get("account"):
                    self.balances[args["to"]["id"]] += amount
            out = ActionOutcome("ok", {"arrival": "", "new_balance": "x"}, reference=f"R{len(self.executed) + 1}")
            self.executed.append((name, args, key))
        self.keys[key] = out
        return out

    async def send_code(self, customer_id, purpose):
        self.codes_sent += 1
        return ActionOutcome("ok")

    async def check_code(self, customer_id, code, otp_id):
        return "ok" if code == self.code else "wrong"


@pytest.fixture
def bank():
    return MemoryBank()


@pytest.fixture
def runner(bank):
    return FlowRunner(load_flows(), bank, today=lambda: date(2026, 12, 7))


def run(coro):
    return asyncio.run(coro)


def test_transfer_from_the_first_message_then_correction_then_yes(runner, bank):
    r = run(runner.start("transfer", "move $200 from checking to my savings", "C1"))
    assert r.state.awaiting == "confirm" and "$200.00" in r.text and "savings ending 1234" in r.text
    r = run(runner.fill(r.state, "no, make it 250", "C1"))  # a correction voids nothing done and reads back again
    assert r.state.awaiting == "confirm" and "$250.00" in r.text and not bank.executed
    r = run(runner.confirm(r.state, "C1"))
    assert r.state is None and r.outcome == "completed" and "Reference R1" in r.text
    assert len(bank.executed) == 1 and bank.balances == {"a1": Decimal("750.00"), "a2": Decimal("300.00")}
    assert [e.kind for e in r.events] == ["confirmed", "requested", "executed"]


def test_slots_are_asked_one_by_one_and_bad_amounts_are_reasked(runner, bank):
    r = run(runner.start("transfer", "I want to make a transfer", "C1"))
    assert r.state.awaiting == "slot" and runner.awaited_slot(r.state) == "to"
    r = run(runner.fill(r.state, "to my savings", "C1"))
    assert runner.awaited_slot(r.state) == "amount"
    for bad, problem in (("zero dollars", "more than zero"), ("-50", "more than zero"), ("$20,000", "up to")):
        again = run(runner.fill(r.state, bad, "C1"))
        assert problem in again.text and runner.awaited_slot(again.state) == "amount", bad
    r = run(runner.fill(r.state, "1.2k", "C1"))
    assert r.state.awaiting == "confirm" and "$1,200.00" in r.text and "checking ending 4821" in r.text


def test_over_the_balance_is_refused_plainly_and_nothing_moves(runner, bank):
    r = run(runner.start("transfer", "move $5,000 from savings to checking", "C1"))
    r = run(runner.confirm(r.state, "C1"))
    assert r.state is None and "available" in r.text and bank.balances["a2"] == Decimal("50.00")


def test_payee_needs_a_code_and_three_wrong_codes_stop_the_flow(runner, bank):
    r = run(runner.start("transfer", "send 200 dollars to my sister", "C1"))
    assert r.state.awaiting == "confirm" and "Maria Lopez" in r.text
    r = run(runner.confirm(r.state, "C1"))
    assert r.state.awaiting == "code" and bank.codes_sent == 1 and not bank.executed
    for i in range(2):
        r = run(runner.code(r.state, "111111", "C1"))
        assert r.state is not None and "not right" in r.text, i
    r = run(runner.code(r.state, "111111", "C1"))
    assert r.state is None and r.outcome == "failed" and not bank.executed and "agent" in r.text


def test_payee_with_the_right_code_executes_once(runner, bank):
    r = run(runner.start("transfer", "send 200 dollars to my sister", "C1"))
    r = run(runner.code(run(runner.confirm(r.state, "C1")).state, "five five two one nine nine", "C1"))
    assert r.outcome == "completed" and [n for n, _, _ in bank.executed] == ["transfer"]


def test_ambiguous_payee_is_asked_with_both_names(runner):
    r = run(runner.start("transfer", "send 20 to lopez", "C1"))
    assert r.state.awaiting == "slot"
    r = run(runner.fill(r.state, "lopez", "C1"))
    assert "Maria Lopez" in r.text and "Carlos Lopez" in r.text and set(r.suggestions) == {"Maria Lopez", "Carlos Lopez"}


def test_a_change_after_the_yes_voids_it(runner, bank):
    """Values changed after confirmation (a replayed or late message) are never executed unconfirmed."""
    r = run(runner.start("transfer", "send 200 dollars to my sister", "C1"))
    at_code = run(runner.confirm(r.state, "C1")).state
    changed = at_code.but(slots={**at_code.slots, "amount": {"amount": "900.00", "currency": "USD", "label": "$900.00"}})
    r = run(runner.code(changed, "552199", "C1"))
    assert not bank.executed and r.state is None and "confirm" in r.text


def test_cancel_leaves_nothing_done(runner, bank):
    r = run(runner.start("freeze_card", "freeze my debit card", "C1"))
    assert r.state.awaiting == "confirm" and "debit card ending 9876" in r.text
    r = runner.cancel(r.state)
    assert r.state is None and r.outcome == "cancelled" and not bank.executed
