"""The flows' actions on a BankingBackend (the bank's REST API; the sandbox serves the same one).

Each action turns typed backend results into the few words a flow's template says, and every
failure into an outcome code: the bank's refusal code (insufficient_funds, card_state, ...) or
"unavailable" when it did not answer. Nothing raises into the dialogue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from assistant import i18n
from assistant.banking.backend import BankingBackend
from assistant.banking.errors import BackendUnavailable, BankingError
from assistant.banking.types import Money, OtpPurpose, TransactionQuery
from assistant.dialogue.actions import MUTATING, PARTS, AccountInfo, ActionOutcome, CardInfo, CodeCheck, CustomerData
from assistant.dialogue.customer_cache import CustomerCache

DISPUTE_REASONS = {"not recognised": "unrecognized", "charged twice": "duplicate", "not received": "not_received",
                   "wrong amount": "wrong_amount", "cancelled": "cancelled"}  # the flow's words -> the bank's codes
_CODE_ERRORS: dict[str, CodeCheck] = {"otp_locked": "locked", "otp_expired": "expired"}
OTP_PURPOSE: dict[str, OtpPurpose] = {"transfer": "transfer", "update_contact": "contact_update"}


def usd(m: Money) -> str:
    return f"${m.amount:,.2f}" if m.currency == "USD" else f"{m.amount:,.2f} {m.currency}"


def _day(d: date | None) -> str:
    return d.strftime("%A, %B %-d") if d else i18n.t("bank.soon")


class BankActions:
    names = frozenset({"balance", "transactions", "transfer", "freeze_card", "unfreeze_card", "activate_card",
                       "report_card_lost", "card_delivery", "payment_status", "open_dispute", "update_contact"})

    def __init__(self, backend: BankingBackend, *, today: Callable[[], date] = date.today,
                 cache_ttl_s: float = 0.0) -> None:
        """`cache_ttl_s`: how long a conversation's lists serve its next turns (assistant/dialogue/customer_cache.py)."""
        self.backend, self.today = backend, today
        self.cache = CustomerCache(cache_ttl_s)

    async def customer(self, customer_id: str | None, needs: frozenset[str] = PARTS, *,
                       conversation: str | None = None) -> CustomerData:
        """The lists in `needs`: this conversation's recent read, else the bank's (the missing ones, at once)."""
        if customer_id is None:
            return CustomerData()
        held = self.cache.get(customer_id, conversation) if conversation else None
        missing = needs - held.parts if held else needs
        if not missing:
            return held or CustomerData(parts=needs)
        read_at = self.cache.clock()
        fetched = await self._read(customer_id, missing)
        if fetched is None:
            return CustomerData()  # the flow asks as if nothing were known; the action then says the bank is down
        return self.cache.put(customer_id, conversation, fetched, read_at, held) if conversation else fetched

    async def _read(self, customer_id: str, parts: frozenset[str]) -> CustomerData | None:
        async def merchants() -> dict[str, str]:
            since = self.today() - timedelta(days=90)
            page = await self.backend.transactions(customer_id, TransactionQuery(from_date=since, limit=100))
            return {t.id: t.merchant for t in page.items if t.merchant}

        async def accounts() -> tuple[AccountInfo, ...]:
            return tuple(AccountInfo(a.id, a.type, a.last4, usd(a.available)) for a in await self.backend.accounts(customer_id))

        async def cards() -> tuple[CardInfo, ...]:
            return tuple(CardInfo(c.id, c.last4, c.kind, c.status) for c in await self.backend.cards(customer_id))

        async def payees() -> dict[str, str]:
            return {p.id: f"{p.name} ({p.nickname})" if p.nickname else p.name for p in await self.backend.payees(customer_id)}

        readers = {"accounts": accounts, "cards": cards, "payees": payees, "merchants": merchants}
        names = sorted(parts & readers.keys())
        got = await asyncio.gather(*(readers[n]() for n in names), return_exceptions=True)
        for result in got:
            if isinstance(result, BaseException):
                if isinstance(result, BackendUnavailable | BankingError):
                    return None
                raise result
        lists: dict[str, Any] = dict(zip(names, got, strict=True))
        return CustomerData(parts=frozenset(names), **lists)

    async def run(self, name: str, *, customer_id: str | None, args: dict[str, Any], key: str) -> ActionOutcome:
        if customer_id is None:
            return ActionOutcome("not_verified")
        handler: Callable[..., Awaitable[ActionOutcome]] = getattr(self, f"_{name}")
        try:
            return await handler(customer_id, args, key)
        except BackendUnavailable:
            return ActionOutcome("unavailable")
        except BankingError as exc:
            data: dict[str, Any] = {"error": exc.code.replace("_", " ")}
            if exc.available_cents is not None:
                data["available"] = usd(Money(amount_cents=exc.available_cents))
            if isinstance(exc.extras.get("limit_cents"), int):
                data["limit"] = usd(Money(amount_cents=exc.extras["limit_cents"]))
            if exc.extras.get("card_status"):
                data["card_state"] = str(exc.extras["card_status"])
            return ActionOutcome(exc.code, data)
        finally:  # whatever the outcome (a timed-out call may still have changed something)
            if name in MUTATING:
                self.cache.changed(customer_id)

    async def send_code(self, customer_id: str | None, purpose: str) -> ActionOutcome:
        if customer_id is None:
            return ActionOutcome("not_verified")
        try:
            challenge = await self.backend.send_otp(customer_id, purpose=OTP_PURPOSE.get(purpose, "transfer"))
        except (BackendUnavailable, BankingError) as exc:
            return ActionOutcome(exc.code if isinstance(exc, BankingError) else "unavailable")
        return ActionOutcome("ok", {"otp_id": challenge.id})

    async def check_code(self, customer_id: str | None, code: str, otp_id: str | None) -> CodeCheck:
        if customer_id is None:
            return "wrong"
        if not otp_id:
            return "expired"
        try:
            result = await self.backend.verify_otp(customer_id, otp_id, code)
        except BankingError as exc:
            return _CODE_ERRORS.get(exc.code, "wrong")
        except BackendUnavailable:
            return "wrong"
        return "ok" if result.verified else "wrong"

    # -- the actions -----------------------------------------------------------------------
    async def _balance(self, customer_id: str, args: dict, key: str) -> ActionOutcome:
        accounts = await self.backend.accounts(customer_id)
        wanted = args.get("account")
        if wanted:
            accounts = [a for a in accounts if a.id == wanted["id"]]
        parts = [i18n.t("bank.balance", account=a.type, last4=a.last4, amount=usd(a.available)) for a in accounts]
        text = ("; ".join(parts) or i18n.t("bank.no_open_account")).strip()
        return ActionOutcome("ok", {"balances": text[0].upper() + text[1:] + "."})

    async def _transactions(self, customer_id: str, args: dict, key: str) -> ActionOutcome:
        since = date.fromisoformat(args["since"]["date"]) if args.get("since") else self.today() - timedelta(days=30)
        merchant = args["merchant"]["label"] if args.get("merchant") else None
        account = args["account"]["id"] if args.get("account") else None
        page = await self.backend.transactions(customer_id, TransactionQuery(
            merchant=merchant, from_date=since, account_id=account, limit=5))
        if not page.items:
            what = i18n.t("bank.from_merchant", merchant=merchant) if merchant else i18n.t("bank.in_that_time")
            return ActionOutcome("ok", {"transactions": i18n.t("bank.no_payments", what=what, day=_day(since))})
        lines = [i18n.t("bank.transaction", day=f"{t.created_at:%b %-d}", merchant=t.merchant or t.description,
                        amount=usd(t.amount).replace("$-", "-$"), status=t.status) for t in page.items]
        return ActionOutcome("ok", {"transactions": i18n.t("bank.latest", lines="; ".join(lines))})

    async def _transfer(self, customer_id: str, args: dict, key: str) -> ActionOutcome:
        to = args["to"]
        amount = Money.of(Decimal(args["amount"]["amount"]))
        t = await self.backend.transfer(
            customer_id, from_account_id=args["from_account"]["id"], amount=amount, idempotency_key=key,
            to_account_id=to["id"] if to.get("account") else None, payee_id=to["id"] if to.get("payee") else None,
            otp_id=args.get("otp_id"))
        source = await self.backend.account(customer_id, t.from_account_id)
        arrival = (i18n.t("bank.arrived") if t.status == "completed" and to.get("account")
                   else i18n.t("bank.arrives_by", day=_day(t.expected_arrival)))
        return ActionOutcome("ok", {"arrival": arrival, "new_balance": usd(source.available)}, reference=t.reference)

    async def _card_change(self, customer_id: str, args: dict, call) -> ActionOutcome:
        card = await call(customer_id, args["card"]["id"])
        return ActionOutcome("ok", {"card_state": card.status})

    async def _freeze_card(self, customer_id: str, args: dict, key: str) -> ActionOutcome:
        return await self._card_change(customer_id, args, self.backend.freeze_card)

    async def _unfreeze_card(self, customer_id: str, args: dict, key: str) -> ActionOutcome:
        return await self._card_change(customer_id, args, self.backend.unfreeze_card)

    async def _activate_card(self, customer_id: str, args: dict, key: str) -> ActionOutcome:
        return await self._card_change(customer_id, args, self.backend.activate_card)

    async def _report_card_lost(self, customer_id: str, args: dict, key: str) -> ActionOutcome:
        reason = (args.get("reason") or {}).get("value", "lost")
        report = await self.backend.report_card(customer_id, args["card"]["id"], reason=reason, idempotency_key=key)
        new = report.replacement
        eta = new.delivery.estimated_delivery if new and new.delivery else None
        return ActionOutcome("ok", {"new_last4": new.last4 if new else "", "delivery_date": _day(eta)},
                             reference=f"CARD-{report.card.id[-6:].upper()}")

    async def _card_delivery(self, customer_id: str, args: dict, key: str) -> ActionOutcome:
        cards = await self.backend.cards(customer_id)
        cards = [c for c in cards if c.id == args["card"]["id"]] if args.get("card") else \
            [c for c in cards if c.status == "inactive"]  # a card on its way is not activated yet
        parts = []
        for c in cards:
            d = await self.backend.card_delivery(customer_id, c.id)
            if d.status not in ("ordered", "shipped"):
                continue
            how = i18n.t("bank.by_carrier", carrier=d.carrier) if d.carrier else ""
            track = i18n.t("bank.tracking", number=d.tracking_number) if d.tracking_number else ""
            parts.append(i18n.t("bank.card_delivery", kind=c.kind, last4=c.last4, status=d.status, carrier=how,
                                tracking=track, day=_day(d.estimated_delivery)))
        return ActionOutcome("ok", {"delivery": " ".join(parts)}) if parts else ActionOutcome("none")

    async def _payment_status(self, customer_id: str, args: dict, key: str) -> ActionOutcome:
        """Payments to a payee: their transfers and where each stands; otherwise pending, declined or failed
        card payments and transfers of the last 90 days (the kind the customer named, else all three)."""
        if args.get("payee"):
            mine = [t for t in await self.backend.transfers(customer_id) if t.payee_id == args["payee"]["id"]]
            if not mine:
                return ActionOutcome("none")
            lines = [i18n.t("bank.transfer", day=f"{t.created_at:%b %-d}", amount=usd(t.amount), payee=args["payee"]["label"],
                            status=t.status)
                     + (i18n.t("bank.because", reason=t.status_reason) if t.status_reason else "")
                     + (i18n.t("bank.expected_by", day=_day(t.expected_arrival)) if t.status == "pending" else "")
                     for t in sorted(mine, key=lambda t: t.created_at, reverse=True)[:3]]
            return ActionOutcome("ok", {"found": i18n.t("bank.found", lines="; ".join(lines))})
        since = self.today() - timedelta(days=90)
        wanted = (args.get("status") or {}).get("value")
        found = []
        for status in (wanted,) if wanted else ("declined", "failed", "pending"):
            page = await self.backend.transactions(customer_id, TransactionQuery(status=status, from_date=since, limit=10))
            found += page.items
        if args.get("merchant"):
            found = [t for t in found if t.merchant == args["merchant"]["label"]]
        if args.get("amount"):
            cents = Money.of(Decimal(args["amount"]["amount"])).amount_cents
            found = [t for t in found if abs(t.amount.amount_cents) == cents]
        if not found:
            return ActionOutcome("none")
        lines = [i18n.t("bank.payment", day=f"{t.created_at:%b %-d}", merchant=t.merchant or t.description,
                        amount=usd(t.amount).replace("$-", "-$"), status=t.status)
                 + (i18n.t("bank.because", reason=t.status_reason) if t.status_reason else "")
                 for t in sorted(found, key=lambda t: t.created_at, reverse=True)[:3]]
        return ActionOutcome("ok", {"found": i18n.t("bank.found", lines="; ".join(lines))})

    async def _open_dispute(self, customer_id: str, args: dict, key: str) -> ActionOutcome:
        reason = DISPUTE_REASONS.get(args["reason"]["value"], "other")
        d = await self.backend.open_dispute(customer_id, transaction_id=args["transaction"]["id"],
                                            reason=reason, idempotency_key=key)
        return ActionOutcome("ok", {}, reference=d.reference)

    async def _update_contact(self, customer_id: str, args: dict, key: str) -> ActionOutcome:
        field, value = args["field"]["value"], args["value"]["value"]  # opened from its seal for this call only
        if not value:
            return ActionOutcome("invalid")
        await self.backend.update_contact(customer_id, otp_id=args.get("otp_id") or "",
                                          **({"email": value} if field == "email" else {"phone": value}))
        return ActionOutcome("ok", {})
