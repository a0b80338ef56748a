"""Demo customers and 90 days of history, the same every time for the same seed and day."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from sandbox_bank import keypad, ledger
from sandbox_bank import models as m
from sandbox_bank.config import SandboxConfig
from sandbox_bank.db import Database

CUSTOMERS = [  # id, name, email, phone, checking (number, opening cents), savings (number, opening cents)
    ("cus_alex", "Alex Morgan", "alex.morgan@example.com", "+15551230001", ("1002004821", 350_000), ("1002007735", 1_200_000)),
    ("cus_priya", "Priya Shah", "priya.shah@example.com", "+15551230002", ("2003001357", 520_000), ("2003002468", 2_500_000)),
    ("cus_jordan", "Jordan Lee", "jordan.lee@example.com", "+15551230003", ("3004006060", 45_000), ("3004009090", 0)),
]
KEYPAD = {  # customer number and phone PIN for keypad sign-in (phone line, branch robot); demo values
    "cus_alex": ("40012345", "2580"), "cus_priya": ("40023456", "1357"), "cus_jordan": ("40034567", "9024"),
}
PAYEES: dict[str, list[tuple[str, str | None, str, str]]] = {  # two pairs of look-alike names per customer, for the "which one?" question
    "cus_alex": [("Maria Lopez", "sister", "1st Coastal Bank", "883002110"),
                 ("Mario Lopez", "coworker", "Union Savings", "551200987"),
                 ("Oak Street Properties", "landlord", "Metro Commercial Bank", "700144321"),
                 ("Oak Street Parking", None, "Metro Commercial Bank", "700199654")],
    "cus_priya": [("Sam Carter", "brother", "Harbor Credit Union", "410022876"),
                  ("Samantha Carter", "friend", "Pacific Trust", "902211453"),
                  ("Green Valley Gym", None, "First Valley Bank", "330011775")],
    "cus_jordan": [("Chris Lee", "partner", "Northside Bank", "661100238")],
}
MERCHANTS = [  # merchant, category, min cents, max cents
    ("Whole Foods", "groceries", 1_500, 14_000), ("Trader Joe's", "groceries", 1_200, 9_000),
    ("Starbucks", "dining", 350, 1_400), ("Chipotle", "dining", 900, 2_600), ("Shell", "fuel", 2_500, 7_000),
    ("Amazon", "shopping", 800, 16_000), ("Target", "shopping", 1_500, 12_000), ("Uber", "transport", 700, 4_500),
    ("CVS Pharmacy", "health", 500, 6_000),
]
SUBSCRIPTIONS = [("Netflix", "entertainment", 1_549, 12), ("Spotify", "entertainment", 1_199, 20)]


def reset(db: Database, cfg: SandboxConfig) -> None:
    db.drop()
    db.create()
    with db.transaction() as s:
        seed(s, cfg, cfg.now().date())


def seed(s: Session, cfg: SandboxConfig, today: date) -> None:
    rng = random.Random(cfg.seed)
    for gl in (ledger.GL_FUNDING, ledger.GL_CARD_SETTLEMENT, ledger.GL_EXTERNAL_OUT):
        s.add(m.LedgerAccount(id=gl, customer_id=None, kind="gl", name=gl, number="0", currency=cfg.currency))
    for cid, name, email, phone, chk, sav in CUSTOMERS:
        number, pin = KEYPAD[cid]
        s.add(m.Customer(id=cid, name=name, email=email, phone=phone, customer_number=number,
                         pin_hash=keypad.hash_pin(pin)))
        short = cid.removeprefix("cus_")
        s.add(m.LedgerAccount(id=f"acc_{short}_chk", customer_id=cid, kind="checking", name="Everyday Checking",
                              number=chk[0], currency=cfg.currency))
        s.add(m.LedgerAccount(id=f"acc_{short}_sav", customer_id=cid, kind="savings", name="High-Yield Savings",
                              number=sav[0], currency=cfg.currency))
        for i, (pname, nick, bank, number) in enumerate(PAYEES[cid], 1):
            s.add(m.Payee(id=f"pay_{short}_{i}", customer_id=cid, name=pname, nickname=nick, bank_name=bank,
                          account_number=number))
    s.flush()
    _cards(s, today)
    for cid, _, _, _, chk, sav in CUSTOMERS:
        _History(s, cfg, rng, cid, today).run(chk[1], sav[1])


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _cards(s: Session, today: date) -> None:
    def card(cid, short, suffix, last4, status, *, acc="chk", kind="debit", replaces=None, delivery="delivered",
             ordered_days_ago=400, shipped=True):
        ordered = _at(today - timedelta(days=ordered_days_ago), 10)
        s.add(m.Card(id=f"card_{short}_{suffix}", customer_id=cid, account_id=f"acc_{short}_{acc}", kind=kind,
                     network="Visa", last4=last4, expires=f"{(today.month % 12) + 1:02d}/{(today.year + 3) % 100:02d}",
                     status=status, replaces_card_id=replaces, delivery_status=delivery, ordered_at=ordered,
                     shipped_at=ordered + timedelta(days=1) if shipped else None,
                     estimated_delivery=ledger.add_business_days(ordered.date(), 5),
                     delivered_at=ordered + timedelta(days=6) if delivery == "delivered" else None,
                     carrier="USPS", tracking_number=f"9400{last4}0026{suffix.upper()[:3]}"))

    card("cus_alex", "alex", "debit", "1234", "active")
    card("cus_alex", "alex", "travel", "5678", "frozen", acc="sav")
    card("cus_alex", "alex", "old", "3456", "lost", ordered_days_ago=700)
    card("cus_alex", "alex", "new", "9012", "inactive", replaces="card_alex_old", delivery="shipped", ordered_days_ago=3)
    card("cus_priya", "priya", "debit", "4455", "active")
    card("cus_priya", "priya", "stolen", "7788", "stolen", ordered_days_ago=600)
    card("cus_priya", "priya", "new", "2211", "inactive", replaces="card_priya_stolen", delivery="ordered",
         ordered_days_ago=1, shipped=False)
    card("cus_jordan", "jordan", "debit", "6060", "active")


class _History:
    """Writes one customer's 90 days: opening deposits, payroll, rent, card spending, subscriptions,
    monthly savings, interest; the last two days' card payments pending; a declined and a failed one."""

    def __init__(self, s: Session, cfg: SandboxConfig, rng: random.Random, cid: str, today: date) -> None:
        self.s, self.cfg, self.rng, self.cid, self.today = s, cfg, rng, cid, today
        short = cid.removeprefix("cus_")
        self.short, self.chk, self.sav = short, f"acc_{short}_chk", f"acc_{short}_sav"
        self.balances = {self.chk: 0, self.sav: 0}
        self.n = 0
        self.held = 0  # pending card payments on checking

    def _txn(self, account: str, at: datetime, cents: int, kind: str, desc: str, *, status="posted", merchant=None,
             category=None, card=None, transfer=None, entry=None, reason=None) -> None:
        self.n += 1
        self.s.add(m.Txn(id=f"txn_{self.short}_{self.n:04d}", customer_id=self.cid, account_id=account, created_at=at,
                         posted_at=at if status == "posted" else None, status=status, kind=kind, amount_cents=cents,
                         currency=self.cfg.currency, description=desc, merchant=merchant, category=category,
                         card_id=card, transfer_id=transfer, entry_id=entry, status_reason=reason))

    def _post(self, account: str, other: str, cents: int, at: datetime, kind: str, desc: str, **kw) -> None:
        entry = ledger.post(self.s, kind=kind, description=desc, at=at, legs=[(account, cents), (other, -cents)])
        self.balances[account] += cents
        self._txn(account, at, cents, kw.pop("txn_kind", kind), desc, entry=entry.id, **kw)

    def _spend(self, at: datetime, merchant: str, category: str, cents: int) -> None:
        card = f"card_{self.short}_debit"
        if cents > self.balances[self.chk] - self.held:
            self._txn(self.chk, at, -cents, "card", merchant, status="declined", merchant=merchant, category=category,
                      card=card, reason="insufficient funds")
        elif at.date() >= self.today - timedelta(days=2):
            self.held += cents
            self._txn(self.chk, at, -cents, "card", merchant, status="pending", merchant=merchant, category=category,
                      card=card)
        else:
            self._post(self.chk, ledger.GL_CARD_SETTLEMENT, -cents, at, "card", merchant, merchant=merchant,
                       category=category, card=card)

    def _to_payee(self, at: datetime, payee: str, name: str, cents: int, status: str = "completed",
                  reason: str | None = None, arrival: date | None = None) -> None:
        self.n += 1
        tid = f"trf_{self.short}_{self.n:04d}"
        arrival = arrival or ledger.add_business_days(at.date(), 1)
        entry = None
        if status != "failed":
            entry = ledger.post(self.s, kind="transfer", description=f"Transfer to {name}", at=at,
                                legs=[(self.chk, -cents), (ledger.GL_EXTERNAL_OUT, cents)]).id
            self.balances[self.chk] -= cents
        self.s.add(m.Transfer(id=tid, customer_id=self.cid, from_account_id=self.chk, to_account_id=None,
                              payee_id=payee, amount_cents=cents, currency=self.cfg.currency, memo=None, status=status,
                              status_reason=reason, reference=f"TRF-S{self.short.upper()[:3]}{self.n:04d}",
                              created_at=at, expected_arrival=arrival, entry_id=entry))
        self._txn(self.chk, at, -cents, "payment", f"Transfer to {name}", status="failed" if status == "failed"
                  else "posted", merchant=name, category="transfer", transfer=tid, entry=entry, reason=reason)

    def run(self, opening_chk: int, opening_sav: int) -> None:
        rng, start = self.rng, self.today - timedelta(days=90)
        self._post(self.chk, ledger.GL_FUNDING, opening_chk, _at(start, 9), "deposit", "Opening deposit")
        if opening_sav:
            self._post(self.sav, ledger.GL_FUNDING, opening_sav, _at(start, 9, 5), "deposit", "Opening deposit")
        for offset in range(90, 0, -1):  # up to yesterday: nothing is dated later than now
            day = self.today - timedelta(days=offset)
            if day.weekday() == 4 and (day - start).days % 14 < 7 and self.cid != "cus_jordan":
                self._post(self.chk, ledger.GL_FUNDING, 215_000, _at(day, 6), "deposit", "Payroll ACME Corp",
                           merchant="ACME Corp", category="income")
            if day.day == 1 and self.cid == "cus_alex":
                self._to_payee(_at(day, 8), "pay_alex_3", "Oak Street Properties", 145_000)
            if day.day == 2 and self.balances[self.chk] > 60_000:
                self._save(day)
            for merchant, category, cents, dom in SUBSCRIPTIONS:
                if day.day == dom:
                    self._spend(_at(day, 3), merchant, category, cents)
            for _ in range(rng.choice((0, 0, 1) if self.cid == "cus_jordan" else (0, 1, 1, 2, 3))):
                merchant, category, lo, hi = rng.choice(MERCHANTS)
                self._spend(_at(day, rng.randint(8, 21), rng.randint(0, 59)), merchant, category, rng.randint(lo, hi))
            if day.day == 28 and self.balances[self.sav] > 0:
                interest = max(self.balances[self.sav] * 42 // 1_000_000, 1)  # 0.50% APY, roughly monthly
                self._post(self.sav, ledger.GL_FUNDING, interest, _at(day, 23), "interest", "Interest paid")
        self._specials()

    def _save(self, day: date) -> None:
        at = _at(day, 7)
        entry = ledger.post(self.s, kind="transfer", description="Transfer to High-Yield Savings", at=at,
                            legs=[(self.chk, -20_000), (self.sav, 20_000)]).id
        self.balances[self.chk] -= 20_000
        self.balances[self.sav] += 20_000
        self._txn(self.chk, at, -20_000, "transfer", "Transfer to High-Yield Savings", category="transfer", entry=entry)
        self._txn(self.sav, at, 20_000, "transfer", "Transfer from Everyday Checking", category="transfer", entry=entry)

    def _specials(self) -> None:
        yesterday = _at(self.today - timedelta(days=1), 16)
        if self.cid == "cus_priya":  # "my brother hasn't received the money": a payee transfer still on its way
            self._to_payee(yesterday, "pay_priya_1", "Sam Carter", 25_000, status="pending",
                           arrival=ledger.add_business_days(self.today, 1))
        if self.cid == "cus_jordan":
            self._to_payee(_at(self.today - timedelta(days=4), 11), "pay_jordan_1", "Chris Lee", 30_000,
                           status="failed", reason="recipient account closed")
            self._spend(_at(self.today - timedelta(days=3), 19), "Best Buy", "shopping", 99_999)
