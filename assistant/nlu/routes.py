"""Polite routes of their own: advice the bank does not give, and products it does not offer.

Rules over the (redacted) text, each pattern bounded so a match costs linear time:
- advice: "Should I move my savings into crypto?", "how can I pay less tax", "should I sue my
  landlord". Questions about the bank's own products stay answerable ("what is the CD rate").
- not offered: "rate on your gold storage account" names a product (account, card, loan,
  insurance, ...) whose qualifying words appear nowhere in the knowledge base or the bank's
  intent vocabulary, or one of the product kinds the bank does not sell (crypto, insurance...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_I = re.IGNORECASE
ADVICE: list[tuple[str, re.Pattern]] = [
    ("investment", re.compile(
        r"\b(should|shall|would it be (smart|wise|better) to|is it (smart|wise|a good idea) to)\s+(i|we)?\b[^.?!]{0,60}?"
        r"\b(invest\w*|crypto\w*|bitcoin|ethereum|stocks?|shares|etfs?|index funds?|mutual funds?|gold|silver|real estate|"
        r"property market|the market|bonds?|401\s?k|ira|retirement fund|portfolio)\b"
        r"|\b(where|what|how much)\s+should\s+(i|we)\s+invest\b|\bwhat (stocks?|shares|coins?|funds?) should\b"
        r"|\b(is|are)\s+(crypto\w*|bitcoin|stocks?|gold|shares|etfs?|real estate)\b[^.?!]{0,30}\b(good|safe|smart|worth)\b"
        r"|\b(good|smart|safe|best) (investment|way to invest|place to invest)\b|\binvestment advice\b", _I)),
    ("tax", re.compile(
        r"\b(avoid|reduce|lower|minimi[sz]e|cut|pay less|evade|save on)\b[^.?!]{0,25}\b(tax|taxes|tax bill)\b"
        r"|\bcan i (deduct|write off|claim)\b|\b(is|are)\b[^.?!]{0,40}\btax[- ]deductible\b"
        r"|\btax (advice|planning|strategy|loophole)s?\b|\bshould i\b[^.?!]{0,40}\b(file|claim|declare)\b[^.?!]{0,30}\btax"
        r"|\b(how|what) (do|should) i (file|declare|report)\b[^.?!]{0,30}\b(tax|taxes|on my tax return)\b"
        r"|\bdo i (have|need) to (pay|declare) (tax|taxes)\b", _I)),
    ("legal", re.compile(
        r"\b(should|can|could) i (sue|take [^.?!]{1,25} to court|press charges)\b|\blegal advice\b"
        r"|\b(do i need|should i (get|hire)) an? (lawyer|attorney|solicitor)\b|\bis it legal (for me )?to\b"
        r"|\bmy (legal )?rights (in|after|during) (a|my) (divorce|custody|lawsuit|eviction)\b"
        r"|\b(divorce|custody|prenup|eviction|lawsuit|will and testament)\b[^.?!]{0,40}\b(should i|what are my options|advice)\b", _I)),
]

PRODUCT_NOUN = r"(accounts?|cards?|loans?|plans?|insurance|polic(?:y|ies)|bonds?|wallets?|funds?|certificates?|programs?|subscriptions?|vaults?|services?)"
_PRODUCT = re.compile(rf"\b(?:your|a|an|the|any)\s+((?:[a-z][a-z-]*\s+){{1,3}}?){PRODUCT_NOUN}\b", _I)
_OFFER = re.compile(r"\b(your|do you (offer|have|sell|provide)|can i (get|open|buy)|rate on|interest on|sign up for)\b", _I)
# Products this bank does not sell, whatever the knowledge base mentions in passing.
NOT_SOLD = re.compile(
    r"\b(crypto(currency)?|bitcoin|ethereum|gold|silver|precious metals?|pet|life|car|auto|home|travel|health|dental)\s+"
    r"(insurance|account|wallet|storage|fund|ira|vault|savings|bonds?)\b|\b(crypto|bitcoin) (trading|exchange|wallet)\b"
    r"|\b(brokerage|stock trading|forex|annuit(y|ies)|gold storage|bullion)\b", _I)
# Words that qualify any real product ("my new joint savings account") and say nothing about which.
GENERIC = {
    "new", "own", "current", "existing", "old", "other", "main", "second", "first", "same", "personal", "joint", "business",
    "bank", "banking", "online", "mobile", "digital", "this", "that", "my", "our", "your", "best", "cheapest", "basic",
    "standard", "regular", "normal", "free", "cheap", "good", "kids", "child", "children", "teen", "student", "small",
    "interest", "rate", "fee", "fees", "monthly", "annual", "high", "low", "type", "kind", "different", "another",
}


@dataclass(frozen=True, slots=True)
class RouteRules:
    known: frozenset[str]  # every word of the knowledge base and of the intent vocabulary

    def advice(self, text: str) -> str | None:
        """'investment' | 'tax' | 'legal' when the message asks for advice the bank does not give."""
        return next((kind for kind, pattern in ADVICE if pattern.search(text)), None)

    def not_offered(self, text: str) -> str | None:
        """The product phrase ("gold storage account") when it names something the bank does not offer."""
        if not _OFFER.search(text):
            return None
        for m in _PRODUCT.finditer(text):
            phrase = f"{m.group(1).strip()} {m.group(2)}".lower()
            words = [w for w in m.group(1).lower().split() if w not in GENERIC]
            if NOT_SOLD.search(phrase) or (words and any(w not in self.known for w in words)):
                return phrase
        sold = NOT_SOLD.search(text)
        return sold.group(0).lower() if sold else None
