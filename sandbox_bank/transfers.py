"""Transfers between a customer's own accounts and to their saved payees."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sandbox_bank import ledger, otp, views
from sandbox_bank import models as m
from sandbox_bank import schemas as api
from sandbox_bank.config import SandboxConfig
from sandbox_bank.errors import BankError


def _payee_total_today(s: Session, customer_id: str, now: datetime) -> int:
    start = datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)
    return int(s.execute(select(func.coalesce(func.sum(m.Transfer.amount_cents), 0)).where(
        m.Transfer.customer_id == customer_id, m.Transfer.payee_id.is_not(None), m.Transfer.status != "failed",
        m.Transfer.created_at >= start, m.Transfer.created_at < start + timedelta(days=1))).scalar_one())


def validate(body: api.TransferIn) -> None:
    """Checks that need no database: the same refusal whatever the balances are."""
    if body.amount.amount_cents <= 0:
        raise BankError("invalid_amount", "the amount must be more than zero")
    if (body.to_account_id is None) == (body.payee_id is None):
        raise BankError("invalid_request", "give exactly one of to_account_id and payee_id")
    if body.to_account_id is not None and body.to_account_id == body.from_account_id:
        raise BankError("same_account")


def execute(s: Session, cfg: SandboxConfig, customer_id: str, body: api.TransferIn) -> api.Transfer:
    """Runs inside the idempotency transaction; any refusal rolls everything back."""
    validate(body)
    now = cfg.now()
    amount, currency = body.amount.amount_cents, body.amount.currency
    ledger.lock_customer(s, customer_id)
    payee = None
    if body.payee_id is not None:
        payee = s.get(m.Payee, body.payee_id)
        if payee is None or payee.customer_id != customer_id:
            raise BankError("unknown_payee", f"no saved payee {body.payee_id}")
        otp.consume_step_up(s, cfg, customer_id, body.otp_id, "transfer")
    ids = sorted({body.from_account_id, body.to_account_id or body.from_account_id})
    locked = {a: ledger.customer_account(s, customer_id, a, lock=True) for a in ids}  # in id order: no deadlock
    source = locked[body.from_account_id]
    if any(acc.currency != currency for acc in locked.values()):
        raise BankError("currency_mismatch", f"the account holds {source.currency}")
    if amount > cfg.single_transfer_limit_cents:
        raise BankError("limit_exceeded", "over the limit for one transfer", limit_cents=cfg.single_transfer_limit_cents)
    if payee is not None:
        spent = _payee_total_today(s, customer_id, now)
        if spent + amount > cfg.daily_payee_limit_cents:
            raise BankError("limit_exceeded", "over the daily limit for payments to payees",
                            limit_cents=cfg.daily_payee_limit_cents,
                            remaining_cents=max(cfg.daily_payee_limit_cents - spent, 0))
    avail = ledger.available(s, source.id)
    if amount > avail:
        raise BankError("insufficient_funds", "not enough money in the account", available_cents=avail)
    transfer = m.Transfer(id=ledger.new_id("trf"), customer_id=customer_id, from_account_id=source.id,
                          to_account_id=body.to_account_id, payee_id=body.payee_id, amount_cents=amount,
                          currency=currency, memo=body.memo, reference=ledger.reference("TRF"), created_at=now,
                          status="completed" if payee is None else "pending",
                          expected_arrival=now.date() if payee is None else ledger.add_business_days(now.date(), 1))
    target = body.to_account_id or ledger.GL_EXTERNAL_OUT
    what = f"Transfer to {payee.name}" if payee else f"Transfer to {locked[target].name}"
    entry = ledger.post(s, kind="transfer", description=what, at=now, legs=[(source.id, -amount), (target, amount)])
    transfer.entry_id = entry.id
    s.add(transfer)
    s.add(m.Txn(id=ledger.new_id("txn"), customer_id=customer_id, account_id=source.id, created_at=now, posted_at=now,
                status="posted", kind="payment" if payee else "transfer", amount_cents=-amount, currency=currency,
                description=what, merchant=payee.name if payee else None, category="transfer", card_id=None,
                transfer_id=transfer.id, entry_id=entry.id, status_reason=None))
    if payee is None:
        s.add(m.Txn(id=ledger.new_id("txn"), customer_id=customer_id, account_id=target, created_at=now,
                    posted_at=now, status="posted", kind="transfer", amount_cents=amount, currency=currency,
                    description=f"Transfer from {source.name}", merchant=None, category="transfer", card_id=None,
                    transfer_id=transfer.id, entry_id=entry.id, status_reason=None))
    s.flush()
    return views.transfer_body(transfer, now.date())
