"""The sandbox bank's own tables. Money is integer cents; a balance is never stored: it is the sum
of the account's postings, and every journal entry's postings sum to zero (double entry)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sandbox_bank.schemas import (
    AccountStatus,
    AccountType,
    CardKind,
    CardStatus,
    DeliveryStatus,
    DisputeStatus,
    OtpPurpose,
    TransferStatus,
    TxnKind,
    TxnStatus,
)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, int: BigInteger, date: Date, dict: JSON}


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(20))
    otp_locked_until: Mapped[datetime | None]
    customer_number: Mapped[str | None] = mapped_column(String(12), unique=True)  # typed on a phone keypad
    pin_hash: Mapped[str | None] = mapped_column(String(120))  # keypad.hash_pin of the phone PIN
    pin_failures: Mapped[int] = mapped_column(default=0)
    pin_locked_until: Mapped[datetime | None]


class LedgerAccount(Base):
    """A customer's account (checking, savings) or one of the bank's own (kind 'gl': may go negative)."""

    __tablename__ = "ledger_accounts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[AccountType | Literal["gl"]] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(80))
    number: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[AccountStatus] = mapped_column(String(16), default="open")


class JournalEntry(Base):
    __tablename__ = "journal_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(24))
    description: Mapped[str] = mapped_column(String(200))


class Posting(Base):
    __tablename__ = "postings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount_cents: Mapped[int]  # + credit to the account (money in), - debit (money out)


class Txn(Base):
    """What the customer sees on a statement: posted ones point at their journal entry; pending,
    declined and failed ones have none (a pending debit only lowers the available balance)."""

    __tablename__ = "transactions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    posted_at: Mapped[datetime | None]
    status: Mapped[TxnStatus] = mapped_column(String(16))
    kind: Mapped[TxnKind] = mapped_column(String(16))
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(200))
    merchant: Mapped[str | None] = mapped_column(String(80))
    category: Mapped[str | None] = mapped_column(String(32))
    card_id: Mapped[str | None] = mapped_column(String(32))
    transfer_id: Mapped[str | None] = mapped_column(String(32))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    status_reason: Mapped[str | None] = mapped_column(String(200))


class Payee(Base):
    __tablename__ = "payees"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    nickname: Mapped[str | None] = mapped_column(String(60))
    bank_name: Mapped[str] = mapped_column(String(80))
    account_number: Mapped[str] = mapped_column(String(20))


class Transfer(Base):
    __tablename__ = "transfers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    from_account_id: Mapped[str] = mapped_column(String(32))
    to_account_id: Mapped[str | None] = mapped_column(String(32))
    payee_id: Mapped[str | None] = mapped_column(String(32))
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    memo: Mapped[str | None] = mapped_column(String(140))
    status: Mapped[TransferStatus] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    created_at: Mapped[datetime]
    expected_arrival: Mapped[date | None]
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))


class Card(Base):
    __tablename__ = "cards"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"))
    kind: Mapped[CardKind] = mapped_column(String(8))
    network: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    expires: Mapped[str] = mapped_column(String(5))  # MM/YY
    status: Mapped[CardStatus] = mapped_column(String(16))
    replaces_card_id: Mapped[str | None] = mapped_column(String(32))
    delivery_status: Mapped[DeliveryStatus | None] = mapped_column(String(16))
    ordered_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    estimated_delivery: Mapped[date | None]
    delivered_at: Mapped[datetime | None]
    carrier: Mapped[str | None] = mapped_column(String(32))
    tracking_number: Mapped[str | None] = mapped_column(String(40))


class Dispute(Base):
    __tablename__ = "disputes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    transaction_id: Mapped[str] = mapped_column(ForeignKey("transactions.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(24))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[DisputeStatus] = mapped_column(String(16))
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime]


class OtpChallenge(Base):
    __tablename__ = "otp_challenges"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    purpose: Mapped[OtpPurpose] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(8))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    verified_at: Mapped[datetime | None]
    consumed_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """Messages the sandbox 'sent' (SMS or email): where a tester reads a one-time code."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    otp_id: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    destination: Mapped[str] = mapped_column(String(254))
    code: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class IdempotencyRecord(Base):
    """One row per (customer, Idempotency-Key): written in the same database transaction as the
    action, so an action and its remembered result commit together or not at all."""

    __tablename__ = "idempotency_keys"
    customer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict]
    created_at: Mapped[datetime]
