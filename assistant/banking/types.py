"""What the banking backend returns: typed, money as integer cents (never a float).

Mirrors docs/banking-api.yaml; unknown fields a bank adds later are ignored."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Money(_Model):
    amount_cents: int
    currency: str = "USD"

    @property
    def amount(self) -> Decimal:
        """Decimal('1200.50') for 120050 cents (for reading aloud and display)."""
        return Decimal(self.amount_cents).scaleb(-2)

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str = "USD") -> Money:
        """Money.of('1200.50') -> 120050 cents; refuses fractions of a cent and floats."""
        if isinstance(amount, float):
            raise TypeError("money is never a float: pass a Decimal, a str or int cents")
        cents = Decimal(amount) * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"{amount} has a fraction of a cent")
        return cls(amount_cents=int(cents), currency=currency)


class Customer(_Model):
    id: str
    name: str
    email: str
    phone: str


class Account(_Model):
    id: str
    type: Literal["checking", "savings"]
    name: str
    last4: str
    currency: str
    balance: Money
    available: Money
    status: str


TransactionStatus = Literal["posted", "pending", "declined", "failed", "reversed"]


class Transaction(_Model):
    id: str
    account_id: str
    created_at: datetime
    posted_at: datetime | None = None
    status: TransactionStatus
    kind: str
    amount: Money
    description: str
    merchant: str | None = None
    category: str | None = None
    card_id: str | None = None
    transfer_id: str | None = None
    status_reason: str | None = None


class TransactionPage(_Model):
    items: list[Transaction]
    next_cursor: str | None = None


class TransactionQuery(_Model):
    """Search filters; None = any. Amount bounds compare absolute amounts; dates are inclusive."""

    account_id: str | None = None
    merchant: str | None = None
    from_date: date | None = None
    to_date: date | None = None
    min_amount_cents: int | None = None
    max_amount_cents: int | None = None
    status: TransactionStatus | None = None
    kind: str | None = None
    direction: Literal["debit", "credit"] | None = None
    limit: int = 20
    cursor: str | None = None


class Payee(_Model):
    id: str
    name: str
    nickname: str | None = None
    bank_name: str
    account_last4: str


class Transfer(_Model):
    id: str
    reference: str
    from_account_id: str
    to_account_id: str | None = None
    payee_id: str | None = None
    amount: Money
    memo: str | None = None
    status: Literal["completed", "pending", "failed", "returned"]
    status_reason: str | None = None
    created_at: datetime
    expected_arrival: date | None = None


class Delivery(_Model):
    status: Literal["ordered", "shipped", "delivered", "returned"]
    ordered_at: datetime | None = None
    shipped_at: datetime | None = None
    estimated_delivery: date | None = None
    delivered_at: datetime | None = None
    carrier: str | None = None
    tracking_number: str | None = None


class Card(_Model):
    id: str
    account_id: str
    kind: str
    network: str
    last4: str
    expires: str
    status: Literal["active", "frozen", "inactive", "lost", "stolen", "closed"]
    replaces_card_id: str | None = None
    delivery: Delivery | None = None


class CardReport(_Model):
    card: Card
    replacement: Card | None = None


class Dispute(_Model):
    id: str
    reference: str
    transaction_id: str
    reason: str
    description: str | None = None
    status: str
    amount: Money
    created_at: datetime


OtpPurpose = Literal["transfer", "contact_update", "login"]


class OtpChallenge(_Model):
    id: str
    purpose: OtpPurpose
    channel: Literal["sms", "email"]
    destination: str
    expires_at: datetime
    attempts_left: int


class KeypadSignIn(_Model):
    customer_id: str
    assertion: str


class OtpVerification(_Model):
    id: str
    purpose: OtpPurpose
    verified: bool
    valid_until: datetime
