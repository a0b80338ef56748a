"""What the `bankassist sandbox` commands show: customers, the outbox, a customer's ledger."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox_bank import models as m
from sandbox_bank import views


def customers(s: Session) -> list[dict]:
    out = []
    for c in s.scalars(select(m.Customer).order_by(m.Customer.id)):
        out.append({**views.customer_body(c).model_dump(),
                    "accounts": [{"id": a.id, "type": a.type, "last4": a.last4, "balance_cents": a.balance.amount_cents}
                                 for a in views.accounts(s, c.id)],
                    "payees": [p.name for p in views.payees(s, c.id)],
                    "cards": [{"id": k.id, "last4": k.last4, "status": k.status} for k in views.cards(s, c.id)]})
    return out


def outbox(s: Session, customer_id: str) -> list[dict]:
    views.customer(s, customer_id)
    rows = s.scalars(select(m.OutboxMessage).where(m.OutboxMessage.customer_id == customer_id)
                     .order_by(m.OutboxMessage.id.desc()).limit(50))
    return [{"otp_id": r.otp_id, "channel": r.channel, "destination": r.destination, "code": r.code, "body": r.body,
             "sent_at": r.created_at.isoformat()} for r in rows]


def ledger(s: Session, customer_id: str, today: date, *, latest: int = 10) -> dict:
    return {"customer": views.customer_body(views.customer(s, customer_id)).model_dump(),
            "accounts": [a.model_dump(mode="json") for a in views.accounts(s, customer_id)],
            "transfers": [t.model_dump(mode="json") for t in views.transfers(s, customer_id, today)[:latest]],
            "transactions": [t.model_dump(mode="json")
                             for t in views.search_transactions(s, customer_id, limit=latest).items]}

