"""Card actions and disputes. A card's status moves only along these edges:
inactive -> active (activate); active <-> frozen; active|frozen|inactive -> lost|stolen (report);
the card a replacement replaces -> closed when the replacement is activated."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox_bank import ledger, views
from sandbox_bank import models as m
from sandbox_bank import schemas as api
from sandbox_bank.config import SandboxConfig
from sandbox_bank.db import Database
from sandbox_bank.errors import BankError

DELIVERY_BUSINESS_DAYS = 5


def _move(card: m.Card, allowed: tuple[api.CardStatus, ...], to: api.CardStatus, action: str) -> None:
    if card.status == to:
        return  # freezing a frozen card is done already: the same answer again
    if card.status not in allowed:
        raise BankError("card_state", f"a card that is {card.status} cannot be {action}", card_status=card.status)
    card.status = to


def freeze(db: Database, cfg: SandboxConfig, customer_id: str, card_id: str, *, frozen: bool) -> api.Card:
    with db.transaction() as s:
        card = views.card(s, customer_id, card_id, lock=True)
        if frozen:
            _move(card, ("active",), "frozen", "frozen")
        else:
            _move(card, ("frozen",), "active", "unfrozen")
        return views.card_body(card)


def activate(db: Database, cfg: SandboxConfig, customer_id: str, card_id: str) -> api.Card:
    now = cfg.now()
    with db.transaction() as s:
        card = views.card(s, customer_id, card_id, lock=True)
        _move(card, ("inactive",), "active", "activated")
        if card.delivery_status in ("ordered", "shipped"):  # the customer has it in hand
            card.delivery_status, card.delivered_at = "delivered", now
        if card.replaces_card_id:
            old = s.get(m.Card, card.replaces_card_id)
            if old is not None and old.status != "closed":
                old.status = "closed"
        return views.card_body(card)


def report(s: Session, cfg: SandboxConfig, customer_id: str, card_id: str, body: api.CardReportIn) -> api.CardReport:
    """Blocks the card at once and (by default) orders a replacement on the same account."""
    now = cfg.now()
    card = views.card(s, customer_id, card_id, lock=True)
    if card.status not in ("active", "frozen", "inactive"):
        raise BankError("card_state", f"a card that is {card.status} cannot be reported", card_status=card.status)
    card.status = body.reason
    replacement = None
    if body.order_replacement:
        replacement = m.Card(id=ledger.new_id("card"), customer_id=customer_id, account_id=card.account_id,
                             kind=card.kind, network=card.network, last4=f"{secrets.randbelow(10**4):04d}",
                             expires=f"{now.month:02d}/{(now.year + 4) % 100:02d}", status="inactive",
                             replaces_card_id=card.id, delivery_status="ordered", ordered_at=now,
                             estimated_delivery=ledger.add_business_days(now.date(), DELIVERY_BUSINESS_DAYS),
                             carrier="USPS")
        s.add(replacement)
    s.flush()
    return api.CardReport(card=views.card_body(card),
                          replacement=views.card_body(replacement) if replacement is not None else None)


def delivery(db: Database, cfg: SandboxConfig, customer_id: str, card_id: str) -> api.Delivery:
    with db.transaction() as s:
        card = views.card(s, customer_id, card_id)
        body = views.card_body(card).delivery
        if body is None:
            raise BankError("not_found", "this card has no delivery on record")
        return body


def open_dispute(s: Session, cfg: SandboxConfig, customer_id: str, body: api.DisputeIn) -> api.Dispute:
    txn = views.transaction(s, customer_id, body.transaction_id)
    if txn.kind != "card" or txn.amount_cents >= 0 or txn.status != "posted":
        raise BankError("not_disputable", "only a posted card payment can be disputed; a pending one can be "
                                          "disputed once it posts", transaction_status=txn.status)
    if cfg.now() - txn.created_at > timedelta(days=120):
        raise BankError("not_disputable", "card payments can be disputed for 120 days")
    if s.scalar(select(m.Dispute).where(m.Dispute.transaction_id == txn.id)) is not None:
        raise BankError("dispute_exists")
    dispute = m.Dispute(id=ledger.new_id("dsp"), reference=ledger.reference("DSP"), customer_id=customer_id,
                        transaction_id=txn.id, reason=body.reason, description=body.description, status="open",
                        amount_cents=-txn.amount_cents, currency=txn.currency, created_at=cfg.now())
    s.add(dispute)
    s.flush()
    return views.dispute_body(dispute)
