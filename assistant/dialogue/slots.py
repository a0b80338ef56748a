"""Reading a slot's value from what the customer said, checked against their own accounts.

`read_slot` returns a JSON-ready value, a problem to tell the customer (and re-ask), or
nothing when the message does not speak of this slot at all. Values name the customer's real
objects (account, card, payee ids), never free text the backend would have to guess at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from rapidfuzz import fuzz, process

from assistant.dialogue import entities as ent
from assistant.dialogue.actions import AccountInfo, CardInfo, CustomerData
from assistant.dialogue.flows import Slot
from assistant.i18n import t

MERCHANT_MIN_SCORE = 85  # rapidfuzz ratio of a merchant name and a run of the message's words: "starbuck" ~ "starbucks"


@dataclass(frozen=True, slots=True)
class SlotRead:
    value: dict[str, Any] | None = None
    problem: str | None = None  # said to the customer before asking again
    options: tuple[str, ...] = ()  # choices to offer as buttons (ambiguous payee, which account)

    @property
    def found(self) -> bool:
        return self.value is not None


NOTHING = SlotRead()


def money_value(m: ent.Money) -> dict[str, Any]:
    return {"amount": str(m.amount), "currency": m.currency, "label": str(m)}


def _account(ref: ent.AccountRef | None, accounts: tuple[AccountInfo, ...]) -> SlotRead:
    if ref is None:
        return NOTHING
    hits = [a for a in accounts if (ref.last4 is None or a.last4 == ref.last4) and (ref.kind is None or a.kind == ref.kind)]
    if len(hits) == 1:
        a = hits[0]
        return SlotRead({"id": a.id, "kind": a.kind, "last4": a.last4, "label": a.label})
    names = tuple(a.label for a in accounts)
    if not hits:
        return SlotRead(problem=t("slot.no_account", accounts=", ".join(names)), options=names)
    return SlotRead(problem=t("slot.many_accounts"), options=tuple(a.label for a in hits))


def _card(text: str, cards: tuple[CardInfo, ...], states: tuple[str, ...]) -> SlotRead:
    last4 = ent.parse_card_last4(text)
    low = text.lower()
    usable = [c for c in cards if c.state in states] if states else list(cards)
    if last4 is None and usable:
        cards = tuple(usable)  # "freeze my card": the active ones; a card named by its digits is taken as named
    hits = [c for c in cards if (last4 is None or c.last4 == last4) and (last4 is not None or c.kind in low)]
    if last4 is None and not hits and "card" in low and len(cards) == 1:
        hits = list(cards)  # "my card" and the customer has one
    if not hits:
        if last4 is None and "card" not in low:
            return NOTHING
        labels = tuple(c.label for c in cards)
        if last4 is None:  # "my card" with several to choose from
            return SlotRead(problem=t("slot.which_card", cards=" or ".join(labels)), options=labels)
        return SlotRead(problem=t("slot.no_card", cards=", ".join(labels)), options=labels)
    if len(hits) > 1:
        labels = tuple(c.label for c in hits)
        return SlotRead(problem=t("slot.which_card", cards=" or ".join(labels)), options=labels)
    c = hits[0]
    return SlotRead({"id": c.id, "last4": c.last4, "kind": c.kind, "state": c.state, "label": c.label})


def _amount(text: str, slot: Slot) -> SlotRead:
    m = ent.parse_amount(text)
    if m is None:
        return NOTHING
    if m.amount <= 0:
        return SlotRead(problem=t("slot.amount_zero"))
    if m.currency != "USD":
        return SlotRead(problem=t("slot.usd_only"))
    low = slot.min if slot.min is not None else Decimal("0.01")
    if m.amount < low:
        return SlotRead(problem=t("slot.amount_min", amount=ent.Money(low)))
    if slot.max is not None and m.amount > slot.max:
        return SlotRead(problem=t("slot.amount_max", amount=ent.Money(slot.max)))
    return SlotRead(money_value(m))


def _payee(text: str, payees: dict[str, str]) -> SlotRead:
    match = ent.match_payee(text, payees)
    if match.status == "one":
        pid = match.matches[0]
        return SlotRead({"id": pid, "label": payees[pid].split(" (")[0]})
    if match.status == "ambiguous":
        names = tuple(payees[p].split(" (")[0] for p in match.matches)
        return SlotRead(problem=t("slot.did_you_mean", names=" or ".join(names)), options=names)
    return NOTHING


def _windows(text: str, n: int) -> list[str]:
    words = "".join(c if c.isalnum() or c == "'" else " " for c in text.lower()[:300]).split()
    return [" ".join(words[i : i + n]) for i in range(max(len(words) - n + 1, 1))]


def _merchant(text: str, merchants: dict[str, str]) -> SlotRead:
    """The latest payment to a merchant the message names: each merchant name is compared with the
    message's runs of as many words ("whole foods" with "the whole foods one"), so no stray word of a
    sentence ("charge", "yes") passes for a merchant."""
    best: tuple[float, str] | None = None
    for tid, name in merchants.items():  # latest first: the first of equal scores is the latest
        target = name.lower()
        hit = process.extractOne(target, _windows(text, len(target.split())), scorer=fuzz.ratio,
                                 score_cutoff=MERCHANT_MIN_SCORE)
        if hit is not None and (best is None or hit[1] > best[0]):
            best = (hit[1], tid)
    if best is None:
        return NOTHING
    return SlotRead({"id": best[1], "label": merchants[best[1]]})


def _side(text: str, role: str, awaited: bool) -> ent.AccountRef | None:
    """The account on one side of "from checking to savings"; a bare "savings" answers the question asked."""
    src, dst = ent.parse_accounts_from_to(text)
    ref = src if role == "from" else dst
    if ref is None and awaited and src is None and dst is None:
        ref = ent.parse_account(text)
    return ref


def _contact(raw: str | None) -> SlotRead:
    """An email address or a phone number, from what the customer typed (not the redacted text).
    The value is plain here; the runner seals it before it is stored."""
    if not raw:
        return NOTHING
    for word in raw[:300].split():
        word = word.strip(".,;:<>()[]\"'")
        local, at, domain = word.partition("@")
        if at and local and "." in domain.strip(".") and len(word) <= 254 and "@" not in domain:
            return SlotRead({"value": word, "kind": "email", "label": f"{local[0]}•••@{domain}"})
    digits = "".join(c for c in raw[:100] if c.isdigit())
    if 10 <= len(digits) <= 15:
        number = "+" + ("1" + digits if len(digits) == 10 else digits)
        return SlotRead({"value": number, "kind": "phone", "label": f"a number ending {digits[-4:]}"})
    return SlotRead(problem=t("slot.not_contact"))


def read_slot(slot: Slot, text: str, data: CustomerData, *, today: date, role: str | None = None,
              awaited: bool = False, raw: str | None = None) -> SlotRead:
    """The slot's value in `text`; `role` "from"/"to" picks that side of "from checking to savings";
    `awaited`: the flow just asked for this slot, so a bare answer counts; `raw`: the unredacted
    message, read only by contact slots."""
    if slot.type == "contact":
        return _contact(raw)
    if slot.type == "amount":
        return _amount(text, slot)
    if slot.type == "account":
        ref = _side(text, role, awaited) if role in ("from", "to") else ent.parse_account(text)
        return _account(ref, data.accounts)
    if slot.type == "payee":
        return _payee(text, data.payees)
    if slot.type == "destination":  # a saved payee named ("to Pranav's savings"), else one of the customer's accounts
        payee = _payee(text, data.payees)
        if payee.value is not None:
            return SlotRead({**payee.value, "payee": True})
        own = _account(_side(text, "to", awaited), data.accounts)
        if own.value is not None:
            return SlotRead({**own.value, "account": True})
        return payee
    if slot.type == "card":
        return _card(text, data.cards, slot.card_states)
    if slot.type == "merchant":
        return _merchant(text, data.merchants)
    if slot.type == "date":
        d = ent.parse_date(text, today=today)
        return SlotRead({"date": d.isoformat(), "label": d.strftime("%B %-d")}) if d else NOTHING
    if slot.type == "digits":
        digits = ent.parse_digits(text, length=slot.digits)
        return SlotRead({"value": digits, "label": digits}) if digits else NOTHING
    if slot.type == "choice":
        low = f" {text.lower()} "
        hits = [c for c, words in slot.choices.items() if any(f" {w.lower()}" in low for w in (c, *words))]
        return SlotRead({"value": hits[0], "label": hits[0]}) if len(hits) == 1 else NOTHING
    clean = text.strip()
    return SlotRead({"value": clean[:500], "label": clean[:80]}) if clean else NOTHING
