"""BankActions' reads of the customer's lists against the sandbox bank over HTTP (issue #26): only the
kinds a turn's flows read, kept for the conversation's next turns, read again after an action on money
or a card, so a balance after a transfer is the new one, and another customer never sees the lists."""

from __future__ import annotations

import asyncio

import pytest

from assistant.banking import HttpBankingBackend
from assistant.dialogue.bank_actions import BankActions
from sandbox_bank.app import create_app
from tests.banking_helpers import ServerThread, make_sandbox

ALEX, PRIYA = "cus_alex", "cus_priya"
ACCOUNTS = frozenset({"accounts"})


class Counting:
    """The backend, with the name of every call made through it."""

    def __init__(self, inner) -> None:
        self.inner, self.calls = inner, []

    def __getattr__(self, name):
        method = getattr(self.inner, name)

        async def counted(*args, **kwargs):
            self.calls.append(name)
            return await method(*args, **kwargs)
        return counted


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    bank = make_sandbox(tmp_path_factory.mktemp("bank"))
    with ServerThread(create_app(bank.cfg, db=bank.db)) as srv:
        yield srv


def actions(url: str, ttl_s: float = 60.0) -> tuple[BankActions, Counting]:
    backend = Counting(HttpBankingBackend(url, timeout_s=5, retries=0))
    return BankActions(backend, cache_ttl_s=ttl_s), backend  # type: ignore[arg-type]


def test_a_turn_reads_only_the_lists_it_needs_and_the_next_turns_reuse_them(server):
    acts, bank = actions(server.url)

    async def go():
        first = await acts.customer(ALEX, frozenset({"accounts", "payees"}), conversation="c1")
        again = await acts.customer(ALEX, ACCOUNTS, conversation="c1")
        more = await acts.customer(ALEX, frozenset({"accounts", "cards"}), conversation="c1")
        other_conversation = await acts.customer(ALEX, ACCOUNTS, conversation="c2")
        other_customer = await acts.customer(PRIYA, ACCOUNTS, conversation="c1")
        nothing = await acts.customer(ALEX, frozenset(), conversation="c3")
        return first, again, more, other_conversation, other_customer, nothing

    first, again, more, other_conversation, other_customer, nothing = asyncio.run(go())
    assert sorted(bank.calls) == ["accounts", "accounts", "accounts", "cards", "payees"]
    assert first.accounts and first.payees and not first.cards and not first.merchants
    assert again is first and more.cards and more.payees == first.payees
    assert other_conversation.accounts == first.accounts
    assert {a.id for a in other_customer.accounts}.isdisjoint({a.id for a in first.accounts})
    assert not nothing.parts and not nothing.accounts


def test_a_balance_after_a_transfer_is_the_new_one(server):
    acts, bank = actions(server.url)

    async def go():
        held = await acts.customer(ALEX, ACCOUNTS, conversation="c1")
        checking = next(a for a in held.accounts if a.kind == "checking")
        savings = next(a for a in held.accounts if a.kind == "savings")
        before = await acts.run("balance", customer_id=ALEX, args={"account": {"id": checking.id}}, key="b1")
        moved = await acts.run("transfer", customer_id=ALEX, key="t1", args={
            "from_account": {"id": checking.id}, "to": {"id": savings.id, "account": True}, "amount": {"amount": "25.00"}})
        bank.calls.clear()
        after_lists = await acts.customer(ALEX, ACCOUNTS, conversation="c1")
        after = await acts.run("balance", customer_id=ALEX, args={"account": {"id": checking.id}}, key="b2")
        return checking, before, moved, after_lists, after

    checking, before, moved, after_lists, after = asyncio.run(go())
    assert moved.ok and before.ok and after.ok
    assert bank.calls == ["accounts", "accounts"]  # the lists were read again, and the balance from the bank
    assert before.data["balances"] != after.data["balances"]
    assert moved.data["new_balance"] in after.data["balances"]
    assert next(a for a in after_lists.accounts if a.id == checking.id).balance == moved.data["new_balance"]


def test_lists_are_not_kept_without_a_ttl_nor_when_the_bank_fails(server):
    acts, bank = actions(server.url, ttl_s=0)
    down, _ = actions("http://127.0.0.1:9", ttl_s=60)

    async def go():
        await acts.customer(ALEX, ACCOUNTS, conversation="c1")
        await acts.customer(ALEX, ACCOUNTS, conversation="c1")
        return await down.customer(ALEX, ACCOUNTS, conversation="c1")

    failed = asyncio.run(go())
    assert bank.calls == ["accounts", "accounts"]
    assert not failed.accounts and down.cache.get(ALEX, "c1") is None
