"""Request and response bodies of docs/banking-api.yaml (the YAML is the contract; tests hold the two together)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# The value sets the ledger's rows hold too (sandbox_bank/models.py), so a row reads into its API model as is.
AccountType = Literal["checking", "savings"]
AccountStatus = Literal["open", "closed"]
TxnStatus = Literal["posted", "pending", "declined", "failed", "reversed"]
TxnKind = Literal["card", "transfer", "payment", "deposit", "interest", "fee"]
TransferStatus = Literal["completed", "pending", "failed", "returned"]
DeliveryStatus = Literal["ordered", "shipped", "delivered", "returned"]
CardKind = Literal["debit", "credit"]
CardStatus = Literal["active", "frozen", "inactive", "lost", "stolen", "closed"]
DisputeStatus = Literal["open", "resolved", "rejected"]

CURRENCY = Field(pattern=r"^[A-Z]{3}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# The largest whole number JSON carries exactly (2^53 - 1); a larger amount is a 422, never a database
# integer overflow (SQLite and PostgreSQL BIGINT stop at 2^63 - 1).
MAX_CENTS = 2**53 - 1


class Money(Strict):
    amount_cents: int = Field(ge=-MAX_CENTS, le=MAX_CENTS)
    currency: str = CURRENCY


class Customer(BaseModel):
    id: str
    name: str
    email: str
    phone: str


class Account(BaseModel):
    id: str
    type: AccountType
    name: str
    last4: str
    currency: str
    balance: Money
    available: Money
    status: AccountStatus


class Transaction(BaseModel):
    id: str
    account_id: str
    created_at: datetime
    posted_at: datetime | None
    status: TxnStatus
    kind: TxnKind
    amount: Money
    description: str
    merchant: str | None
    category: str | None
    card_id: str | None
    transfer_id: str | None
    status_reason: str | None


class TransactionPage(BaseModel):
    items: list[Transaction]
    next_cursor: str | None


class Payee(BaseModel):
    id: str
    name: str
    nickname: str | None
    bank_name: str
    account_last4: str


class TransferIn(Strict):
    from_account_id: str = Field(min_length=1, max_length=32)
    to_account_id: str | None = Field(default=None, min_length=1, max_length=32)
    payee_id: str | None = Field(default=None, min_length=1, max_length=32)
    amount: Money
    memo: str | None = Field(default=None, max_length=140)
    otp_id: str | None = Field(default=None, max_length=32)


class Transfer(BaseModel):
    id: str
    reference: str
    from_account_id: str
    to_account_id: str | None
    payee_id: str | None
    amount: Money
    memo: str | None
    status: TransferStatus
    status_reason: str | None
    created_at: datetime
    expected_arrival: date | None


class Delivery(BaseModel):
    status: DeliveryStatus
    ordered_at: datetime | None
    shipped_at: datetime | None
    estimated_delivery: date | None
    delivered_at: datetime | None
    carrier: str | None
    tracking_number: str | None


class Card(BaseModel):
    id: str
    account_id: str
    kind: CardKind
    network: str
    last4: str
    expires: str
    status: CardStatus
    replaces_card_id: str | None
    delivery: Delivery | None


class CardReportIn(Strict):
    reason: Literal["lost", "stolen"]
    order_replacement: bool = True


class CardReport(BaseModel):
    card: Card
    replacement: Card | None


class DisputeIn(Strict):
    transaction_id: str = Field(min_length=1, max_length=32)
    reason: Literal["unrecognized", "duplicate", "not_received", "wrong_amount", "cancelled", "other"]
    description: str | None = Field(default=None, max_length=1000)


class Dispute(BaseModel):
    id: str
    reference: str
    transaction_id: str
    reason: str
    description: str | None
    status: DisputeStatus
    amount: Money
    created_at: datetime


OtpPurpose = Literal["transfer", "contact_update", "login"]


class OtpIn(Strict):
    purpose: OtpPurpose
    channel: Literal["sms", "email"] = "sms"


class OtpChallenge(BaseModel):
    id: str
    purpose: OtpPurpose
    channel: Literal["sms", "email"]
    destination: str
    expires_at: datetime
    attempts_left: int


class OtpVerifyIn(Strict):
    code: str = Field(min_length=1, max_length=12)


class OtpVerification(BaseModel):
    id: str
    purpose: OtpPurpose
    verified: bool
    valid_until: datetime


class ContactIn(Strict):
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{7,14}$")
    otp_id: str = Field(min_length=1, max_length=32)


class Health(BaseModel):
    status: Literal["ok"]


class KeypadSignInIn(Strict):
    customer_number: str = Field(pattern=r"^[0-9]{6,12}$")
    pin: str = Field(pattern=r"^[0-9]{4,8}$")
    conversation_id: str = Field(min_length=1, max_length=64)


class KeypadSignIn(BaseModel):
    customer_id: str
    assertion: str  # an identity assertion (JWT) for conversation_id, as the bank's logged-in pages issue
