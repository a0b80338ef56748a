"""What a flow may ask of the bank: the customer's own lists, and named actions.

Flows name actions (`transfer_internal`, `freeze_card`, ...); an implementation of `FlowActions`
runs them against a banking backend. `MUTATING` actions change money or a card: the runner
executes them only after the customer confirmed the exact values, with an idempotency key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

MUTATING = frozenset({
    "transfer", "freeze_card", "unfreeze_card", "report_card_lost", "activate_card",
    "open_dispute", "update_contact",
})
CodeCheck = Literal["ok", "wrong", "locked", "expired"]
# The customer's own lists, each read from the bank only for a turn whose flows read a slot of that kind.
PARTS = frozenset({"accounts", "cards", "payees", "merchants"})
SLOT_PARTS: dict[str, frozenset[str]] = {
    "account": frozenset({"accounts"}), "destination": frozenset({"accounts", "payees"}),
    "payee": frozenset({"payees"}), "card": frozenset({"cards"}), "merchant": frozenset({"merchants"}),
}


def parts_for(slot_types: Iterable[str]) -> frozenset[str]:
    """The lists that reading slots of these types needs (amounts, dates, choices: none)."""
    return frozenset().union(*(SLOT_PARTS.get(t, frozenset()) for t in slot_types))


@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: str
    kind: str  # checking | savings | credit
    last4: str
    balance: str = ""  # "$5,118.77", for read-backs

    @property
    def label(self) -> str:
        return f"{self.kind} ending {self.last4}"


@dataclass(frozen=True, slots=True)
class CardInfo:
    id: str
    last4: str
    kind: str  # debit | credit
    state: str  # active | frozen | shipped | lost | ...

    @property
    def label(self) -> str:
        return f"{self.kind} card ending {self.last4}"


@dataclass(frozen=True, slots=True)
class CustomerData:
    accounts: tuple[AccountInfo, ...] = ()
    cards: tuple[CardInfo, ...] = ()
    payees: dict[str, str] = field(default_factory=dict)  # id -> display name ("Maria Lopez (sister)")
    merchants: dict[str, str] = field(default_factory=dict)  # transaction id -> merchant, latest first
    parts: frozenset[str] = PARTS  # the lists read (the others are left empty)


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """`code` is "ok" or the backend's error code (insufficient_funds, card_state, unavailable, ...);
    `data` fills the flow's templates ({reference}, {delivery_date}, {balances}, ...)."""

    code: str
    data: dict[str, Any] = field(default_factory=dict)
    reference: str | None = None

    @property
    def ok(self) -> bool:
        return self.code == "ok"


class FlowActions(Protocol):
    """`customer_id` None: nobody is verified (a flow that needs no identity); the bank is then not asked."""

    names: frozenset[str]

    async def customer(self, customer_id: str | None, needs: frozenset[str] = PARTS, *,
                       conversation: str | None = None) -> CustomerData:
        """The customer's lists named in `needs`; `conversation`: the lists may come from this
        conversation's recent read (kept briefly, dropped when an action changes money or a card)."""
        ...

    async def run(self, name: str, *, customer_id: str | None, args: dict[str, Any], key: str) -> ActionOutcome: ...

    async def send_code(self, customer_id: str | None, purpose: str) -> ActionOutcome:
        """`purpose` is the flow's name; the outcome's data carries the challenge id as "otp_id"."""
        ...

    async def check_code(self, customer_id: str | None, code: str, otp_id: str | None) -> CodeCheck: ...
