"""What bench/build_followups.py draws on besides the shared data: the knowledge base read as facts
(which page states a fee, a time, a limit), the BANKING77 route table, product families and the
follow-up paraphrases (the only hand-written turns of the set)."""

from __future__ import annotations

import re
from pathlib import Path

# Follow-ups written for the set: the examples and their paraphrases.
PARAPHRASES: dict[str, list[str]] = {
    "amount": ["up to what amount?", "is there a limit?", "is there a maximum?", "how much at most?",
               "is there a cap on that?", "what's the limit?", "up to how much?"],
    "what_now": ["what do I do now?", "what should I do?", "ok, so what now?", "what are my next steps?",
                 "what do I need to do?", "what can I do about it?", "so what happens now?", "now what?"],
    "why": ["why?", "why is that?", "how come?", "what's the reason for that?", "why's that?"],
    "time": ["how long does it take?", "how long will that take?", "when will it go through?"],
    "yes_no_fee": ["is there a fee for that?", "does it cost anything?", "do you charge for that?"],
    "yes_no_how": ["can I do it online?", "can I do that in the app?", "do I have to go to a branch for that?",
                   "can I do it from my phone?"],
    "swap": ["and for {x}?", "what about {x}?", "same question for {x}", "and {x}?", "is it the same for {x}?",
             "how about {x}?"],
    "new_topic_opener": ["and ", "also, ", "ok, ", "one more thing: "],
}

# Products a customer names in a subject swap ("and for the money market?"), by family.
FAMILIES: dict[str, dict[str, list[str]]] = {
    "checking": {"prod-everyday-checking": ["everyday checking", "the everyday account"],
                 "prod-premier-checking": ["premier checking", "the premier account"],
                 "prod-business-checking": ["business checking", "a business account"]},
    "savings": {"prod-everyday-savings": ["everyday savings", "regular savings"],
                "prod-high-yield-savings": ["high-yield savings", "the high yield account"],
                "prod-money-market": ["the money market", "a money market account"],
                "prod-cds": ["CDs", "a certificate of deposit"]},
    "cards": {"prod-credit-card-cash-rewards": ["the cash rewards card"],
              "prod-credit-card-travel-rewards": ["the travel rewards card"],
              "prod-credit-card-secured": ["the secured card"]},
    "loans": {"prod-personal-loans": ["personal loans"], "prod-auto-loans": ["a car loan", "auto loans"],
              "prod-mortgages": ["mortgages"], "prod-heloc": ["a HELOC", "home equity lines"]},
    "transfers": {"prod-wire-transfers": ["wires", "a wire transfer"], "prod-ach-transfers": ["ACH transfers"],
                  "prod-larkspur-pay": ["Larkspur Pay"], "prod-international-remittances": ["Global Send"]},
}

# BANKING77 problem intents (the route table sends them to flows) and the pages that say what to do.
_DISPUTE = ["prod-card-disputes", "faq-dispute-transaction", "reg-e-error-resolution", "reg-z-billing-errors", "prod-fraud-security"]
_LOST = ["prod-lost-stolen-card", "faq-lost-card", "prod-card-freeze", "faq-freeze-card", "reg-e-liability", "prod-fraud-security"]
_TRANSFER = ["prod-ach-transfers", "faq-ach-transfer-time", "prod-wire-transfers", "prod-internal-transfers", "prod-larkspur-pay",
             "prod-international-remittances"]
PROBLEM_DOCS: dict[str, list[str]] = {
    "card_payment_not_recognised": _DISPUTE, "cash_withdrawal_not_recognised": _DISPUTE + ["prod-atm-network"],
    "direct_debit_payment_not_recognised": _DISPUTE + ["reg-e-preauthorized-transfers"],
    "transaction_charged_twice": _DISPUTE, "extra_charge_on_statement": _DISPUTE,
    "lost_or_stolen_card": _LOST, "compromised_card": _LOST, "card_swallowed": _LOST + ["prod-atm-network"],
    "pending_transfer": _TRANSFER, "transfer_not_received_by_recipient": _TRANSFER, "failed_transfer": _TRANSFER,
    "wrong_amount_of_cash_received": ["prod-atm-network", "reg-e-error-resolution", "prod-card-disputes"],
    "lost_or_stolen_phone": ["prod-digital-banking", "faq-two-factor", "prod-two-factor-authentication", "prod-fraud-security"],
}

_FACETS = {
    "fee": re.compile(r"\$\s?\d[^.]{0,80}\b(fee|charge|cost)s?\b|\b(fee|charge|cost)s?\b[^.]{0,80}\$\s?\d", re.I),
    "time": re.compile(r"\b\d+\s+(business\s+|calendar\s+)?(days?|hours?|minutes?|weeks?)\b|\bsame (business )?day\b"
                       r"|\bnext business day\b", re.I),
    "limit": re.compile(r"\b(limits?|maximum|up to|insured up to)\b[^.]{0,20}\$\s?\d|\$\s?[\d,]+\s+(per|a|each)\s+(day|month|transaction)", re.I),
}


class Kb:
    """The shipped knowledge base: document ids, FAQ answer_docs, and which facts each page states."""

    def __init__(self, root: Path) -> None:
        from knowledge_base.documents import load_directory

        docs = load_directory(root).documents
        self.ids = {d.doc_id for d in docs}
        self.answer_doc: dict[str, str] = {d.doc_id: str(d.extra["answer_doc"]) for d in docs if d.extra.get("answer_doc")}
        text = {d.doc_id: d.body for d in docs}
        self.facets = {i: {f for f, rx in _FACETS.items() if rx.search(t)} for i, t in text.items()}
        self.fee_docs = frozenset({"prod-fee-schedule"})
        self.rate_docs = frozenset({"prod-interest-rates-overview"})
        self.digital_docs = frozenset({"prod-digital-banking"})

    def expand(self, ids) -> frozenset[str]:
        """The ids that exist, with each FAQ's answer_doc (a reply citing either answers the question)."""
        known = [i for i in ids if i in self.ids]
        return frozenset(known) | {self.answer_doc[i] for i in known if i in self.answer_doc}

    def has(self, ids, facet: str) -> bool:
        return any(facet in self.facets.get(i, ()) for i in ids)


def b77_routes(table: Path, kb: Kb) -> dict[str, frozenset[str]]:
    """BANKING77 intent -> the knowledge-base pages docs/banking77-routes.md names for it (KB rows only)."""
    out = {}
    for line in table.read_text().splitlines():
        m = re.match(r"\|\s*(\S+)\s*\|\s*KB\s*\|\s*(.*?)\s*\|", line)
        if not m:
            continue
        ids = [f"{p}{s.strip()}" for s in m.group(2).split(",") for p in ("faq-", "prod-")]
        found = kb.expand(ids)
        if found:
            out[m.group(1)] = found
    return out

