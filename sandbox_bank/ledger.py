"""Double-entry ledger: a balance is the sum of the account's postings, every entry sums to zero."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sandbox_bank.errors import BankError
from sandbox_bank.models import Customer, JournalEntry, LedgerAccount, Posting, Txn

CUSTOMER_KINDS = ("checking", "savings")
GL_EXTERNAL_OUT = "gl_external_out"  # money sent to other banks (payees)
GL_FUNDING = "gl_funding"  # deposits, payroll and interest coming in
GL_CARD_SETTLEMENT = "gl_card_settlement"  # card purchases paid to merchants


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(6)}"


def reference(prefix: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
    return prefix + "-" + "".join(secrets.choice(alphabet) for _ in range(8))


def balance(s: Session, account_id: str) -> int:
    total = s.execute(select(func.coalesce(func.sum(Posting.amount_cents), 0)).where(Posting.account_id == account_id)).scalar_one()
    return int(total)  # PostgreSQL sums BIGINT as NUMERIC (a Decimal): money stays int cents


def pending_debits(s: Session, account_id: str) -> int:
    """Sum (<= 0) of pending card debits: they lower the available balance until they post."""
    return int(s.execute(select(func.coalesce(func.sum(Txn.amount_cents), 0)).where(
        Txn.account_id == account_id, Txn.status == "pending", Txn.amount_cents < 0)).scalar_one())


def available(s: Session, account_id: str) -> int:
    return balance(s, account_id) + pending_debits(s, account_id)


def post(s: Session, *, kind: str, description: str, at: datetime, legs: Iterable[tuple[str, int]]) -> JournalEntry:
    """One journal entry; refuses legs that do not sum to zero (money is never made or lost)."""
    legs = list(legs)
    if len(legs) < 2 or sum(c for _, c in legs) != 0 or any(c == 0 for _, c in legs):
        raise ValueError(f"unbalanced journal entry {legs!r}")
    entry = JournalEntry(created_at=at, kind=kind, description=description)
    s.add(entry)
    s.flush()
    s.add_all(Posting(entry_id=entry.id, account_id=a, amount_cents=c) for a, c in legs)
    return entry


def lock_customer(s: Session, customer_id: str) -> Customer:
    """Row lock on the customer (PostgreSQL FOR UPDATE; SQLite already holds its write lock):
    every money movement and code check of one customer runs one at a time."""
    customer = s.scalar(select(Customer).where(Customer.id == customer_id).with_for_update())
    if customer is None:
        raise BankError("not_found", f"no customer {customer_id}")
    return customer


def customer_account(s: Session, customer_id: str, account_id: str, *, lock: bool = False) -> LedgerAccount:
    q = select(LedgerAccount).where(LedgerAccount.id == account_id, LedgerAccount.customer_id == customer_id,
                                    LedgerAccount.kind.in_(CUSTOMER_KINDS))
    account = s.scalar(q.with_for_update() if lock else q)
    if account is None or account.status != "open":
        raise BankError("not_found", f"no open account {account_id}")
    return account


def add_business_days(day: date, n: int) -> date:
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day
