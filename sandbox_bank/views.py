"""Reads, and the ORM rows turned into the API's bodies."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from sandbox_bank import ledger
from sandbox_bank import models as m
from sandbox_bank import schemas as api
from sandbox_bank.errors import BankError


def customer(s: Session, customer_id: str) -> m.Customer:
    row = s.get(m.Customer, customer_id)
    if row is None:
        raise BankError("not_found", f"no customer {customer_id}")
    return row


def customer_body(row: m.Customer) -> api.Customer:
    return api.Customer(id=row.id, name=row.name, email=row.email, phone=row.phone)


def account_body(s: Session, row: m.LedgerAccount) -> api.Account:
    if row.kind == "gl":  # the bank's own ledger accounts are never shown
        raise BankError("not_found", f"no account {row.id}")
    bal = ledger.balance(s, row.id)
    avail = bal + ledger.pending_debits(s, row.id)
    return api.Account(id=row.id, type=row.kind, name=row.name, last4=row.number[-4:], currency=row.currency,
                       balance=api.Money(amount_cents=bal, currency=row.currency),
                       available=api.Money(amount_cents=avail, currency=row.currency), status=row.status)


def accounts(s: Session, customer_id: str) -> list[api.Account]:
    customer(s, customer_id)
    rows = s.scalars(select(m.LedgerAccount).where(m.LedgerAccount.customer_id == customer_id,
                                                   m.LedgerAccount.kind.in_(ledger.CUSTOMER_KINDS))
                     .order_by(m.LedgerAccount.id))
    return [account_body(s, r) for r in rows]


def txn_body(row: m.Txn) -> api.Transaction:
    return api.Transaction(id=row.id, account_id=row.account_id, created_at=row.created_at, posted_at=row.posted_at,
                           status=row.status, kind=row.kind, amount=api.Money(amount_cents=row.amount_cents,
                                                                              currency=row.currency),
                           description=row.description, merchant=row.merchant, category=row.category,
                           card_id=row.card_id, transfer_id=row.transfer_id, status_reason=row.status_reason)


def transaction(s: Session, customer_id: str, txn_id: str) -> m.Txn:
    row = s.get(m.Txn, txn_id)
    if row is None or row.customer_id != customer_id:
        raise BankError("not_found", f"no transaction {txn_id}")
    return row


def search_transactions(s: Session, customer_id: str, *, account_id: str | None = None, merchant: str | None = None,
                        from_date: date | None = None, to_date: date | None = None,
                        min_amount_cents: int | None = None, max_amount_cents: int | None = None,
                        status: str | None = None, kind: str | None = None, direction: str | None = None,
                        limit: int = 20, cursor: str | None = None) -> api.TransactionPage:
    """Newest first. Amount bounds compare the absolute amount ('over $50' matches a -$60 purchase);
    dates are inclusive UTC days; merchant matches part of the merchant or description, any case."""
    customer(s, customer_id)
    q = select(m.Txn).where(m.Txn.customer_id == customer_id)
    if account_id:
        q = q.where(m.Txn.account_id == account_id)
    if merchant:
        pattern = "%" + merchant.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        q = q.where(or_(func.lower(m.Txn.merchant).like(pattern), func.lower(m.Txn.description).like(pattern)))
    if from_date:
        q = q.where(m.Txn.created_at >= datetime.combine(from_date, time.min, tzinfo=UTC))
    if to_date:
        q = q.where(m.Txn.created_at < datetime.combine(to_date + timedelta(days=1), time.min, tzinfo=UTC))
    magnitude = func.abs(m.Txn.amount_cents)
    if min_amount_cents is not None:
        q = q.where(magnitude >= min_amount_cents)
    if max_amount_cents is not None:
        q = q.where(magnitude <= max_amount_cents)
    if status:
        q = q.where(m.Txn.status == status)
    if kind:
        q = q.where(m.Txn.kind == kind)
    if direction == "debit":
        q = q.where(m.Txn.amount_cents < 0)
    elif direction == "credit":
        q = q.where(m.Txn.amount_cents > 0)
    offset = _offset(cursor)
    rows = list(s.scalars(q.order_by(m.Txn.created_at.desc(), m.Txn.id.desc()).offset(offset).limit(limit + 1)))
    more = len(rows) > limit
    return api.TransactionPage(items=[txn_body(r) for r in rows[:limit]],
                               next_cursor=str(offset + limit) if more else None)


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit() or len(cursor) > 9:
        raise BankError("invalid_request", "cursor is not one this API returned")
    return int(cursor)


def payees(s: Session, customer_id: str) -> list[api.Payee]:
    customer(s, customer_id)
    rows = s.scalars(select(m.Payee).where(m.Payee.customer_id == customer_id).order_by(m.Payee.name))
    return [api.Payee(id=r.id, name=r.name, nickname=r.nickname, bank_name=r.bank_name,
                      account_last4=r.account_number[-4:]) for r in rows]


def transfer_status(row: m.Transfer, today: date) -> api.TransferStatus:
    """A payee transfer is pending until its expected arrival day, then completed."""
    if row.status == "pending" and row.expected_arrival is not None and today >= row.expected_arrival:
        return "completed"
    return row.status


def transfer_body(row: m.Transfer, today: date) -> api.Transfer:
    return api.Transfer(id=row.id, reference=row.reference, from_account_id=row.from_account_id,
                        to_account_id=row.to_account_id, payee_id=row.payee_id,
                        amount=api.Money(amount_cents=row.amount_cents, currency=row.currency), memo=row.memo,
                        status=transfer_status(row, today), status_reason=row.status_reason,
                        created_at=row.created_at, expected_arrival=row.expected_arrival)


def transfers(s: Session, customer_id: str, today: date, status: str | None = None) -> list[api.Transfer]:
    customer(s, customer_id)
    rows = s.scalars(select(m.Transfer).where(m.Transfer.customer_id == customer_id)
                     .order_by(m.Transfer.created_at.desc()).limit(100))
    out = [transfer_body(r, today) for r in rows]
    return [t for t in out if status is None or t.status == status]


def transfer(s: Session, customer_id: str, transfer_id: str) -> m.Transfer:
    row = s.get(m.Transfer, transfer_id)
    if row is None or row.customer_id != customer_id:
        raise BankError("not_found", f"no transfer {transfer_id}")
    return row


def card_body(row: m.Card) -> api.Card:
    delivery = None if row.delivery_status is None else api.Delivery(
        status=row.delivery_status, ordered_at=row.ordered_at, shipped_at=row.shipped_at,
        estimated_delivery=row.estimated_delivery, delivered_at=row.delivered_at, carrier=row.carrier,
        tracking_number=row.tracking_number)
    return api.Card(id=row.id, account_id=row.account_id, kind=row.kind, network=row.network, last4=row.last4,
                    expires=row.expires, status=row.status, replaces_card_id=row.replaces_card_id, delivery=delivery)


def card(s: Session, customer_id: str, card_id: str, *, lock: bool = False) -> m.Card:
    q = select(m.Card).where(m.Card.id == card_id, m.Card.customer_id == customer_id)
    row = s.scalar(q.with_for_update() if lock else q)
    if row is None:
        raise BankError("not_found", f"no card {card_id}")
    return row


def cards(s: Session, customer_id: str) -> list[api.Card]:
    customer(s, customer_id)
    return [card_body(r) for r in s.scalars(select(m.Card).where(m.Card.customer_id == customer_id).order_by(m.Card.id))]


def dispute_body(row: m.Dispute) -> api.Dispute:
    return api.Dispute(id=row.id, reference=row.reference, transaction_id=row.transaction_id, reason=row.reason,
                       description=row.description, status=row.status,
                       amount=api.Money(amount_cents=row.amount_cents, currency=row.currency), created_at=row.created_at)


def disputes(s: Session, customer_id: str) -> list[api.Dispute]:
    customer(s, customer_id)
    rows = s.scalars(select(m.Dispute).where(m.Dispute.customer_id == customer_id).order_by(m.Dispute.created_at.desc()))
    return [dispute_body(r) for r in rows]


def dispute(s: Session, customer_id: str, dispute_id: str) -> m.Dispute:
    row = s.get(m.Dispute, dispute_id)
    if row is None or row.customer_id != customer_id:
        raise BankError("not_found", f"no dispute {dispute_id}")
    return row
