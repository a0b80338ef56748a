"""Amounts of money: "1.2k", "$1,200.50", "twelve hundred dollars", "200 bucks", "£20", "-50".

Rules, in order:
1. Numbers that are not amounts are removed first: account and card endings ("ending in 4821",
   "acct ...4821"), dates ("on the 3rd", "march 5", "11/30"), times ("at 5pm", "5:30"), counts of
   days/weeks/transactions ("3 days ago") and years after "in/since/of" ("in 2025").
2. "two fifty dollars" is the spoken form of 250 (hundreds said as a pair): read so only when a
   currency word follows. Without one ("two fifty") it could be 2.50 or 250, so no amount is
   returned unless another amount in the text is explicit; the caller asks again. The same for
   "a few hundred"; "a couple hundred" is 200 and "half a grand" 500.
3. Number words become digits (text2num): "twelve hundred" -> 1200, "ten" -> 10.
4. Of the remaining numbers, the first one with a currency sign or word wins; else the first.
5. Zero and negative amounts are returned as such (the caller rejects them with a message);
   more than 12 integer digits is not an amount (None).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ._text import MONTH, normalise, rx, words_to_digits

_CENT = Decimal("0.01")
_MAX_INTEGER_DIGITS = 12
_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€"}
_SPOKEN = {"USD": ("dollar", "dollars", "cent", "cents"), "GBP": ("pound", "pounds", "penny", "pence"),
           "EUR": ("euro", "euros", "cent", "cents")}
_CURRENCY_OF = {"$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "buck": "USD", "bucks": "USD",
                "cent": "USD", "cents": "USD", "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP",
                "quid": "GBP", "p": "GBP", "pence": "GBP", "€": "EUR", "eur": "EUR", "euro": "EUR",
                "euros": "EUR"}
_SUBUNIT = {"cent", "cents", "p", "pence"}
_MULTIPLIER = {"k": 1000, "thousand": 1000, "grand": 1000, "m": 1_000_000, "million": 1_000_000}


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal  # quantized to cents, e.g. Decimal("1200.50")
    currency: str = "USD"

    @property
    def cents(self) -> int:
        return int((self.amount * 100).to_integral_value(rounding=ROUND_HALF_UP))

    def __str__(self) -> str:
        """"$1,200.50"; "-$50.00"; "1,200.50 CHF" for a currency without a symbol here."""
        sign = "-" if self.amount < 0 else ""
        figure = f"{abs(self.amount):,.2f}"
        symbol = _SYMBOLS.get(self.currency)
        return f"{sign}{symbol}{figure}" if symbol else f"{sign}{figure} {self.currency}"

    def spoken(self) -> str:
        """For a voice read-back: "$1,200.50" -> "1,200 dollars and 50 cents", "$0.05" -> "5 cents"."""
        one, many, sub_one, sub_many = _SPOKEN.get(self.currency, (self.currency, self.currency, "cent", "cents"))
        cents = abs(self.cents)
        whole, sub = divmod(cents, 100)
        parts = []
        if whole or not sub:
            parts.append(f"{whole:,} {one if whole == 1 else many}")
        if sub:
            parts.append(f"{sub} {sub_one if sub == 1 else sub_many}")
        return ("minus " if self.cents < 0 else "") + " and ".join(parts)


# Spans whose numbers are never amounts (rule 1); each is replaced by " | " so numbers on either
# side do not join up.
_NOT_AMOUNTS = (
    rx(r"\b(?:ending|ends|end|finishing)(?: in| with| on)?:? ?#?(?:\d{2,6}|\d(?:[ -]\d){1,5})\b"),
    rx(r"(?:\.{2,3}|\bx{1,12}|\*{1,12}|#) ?\d{2,6}\b"),
    rx(r"\b(?:acct|account|acc|a/c|card)\.?(?: number| no\.?| num)? ?#?\d{4,}\b"),
    rx(r"\blast (?:four|4)(?: digits)?(?: of [a-z ]{0,20}?)?(?: is| are|:)? ?\d{0,4}"),
    rx(r"\b" + MONTH + r"\.? \d{1,2}(?:st|nd|rd|th)?\b(?:,? \d{4}\b)?"),
    rx(r"\b\d{1,2}(?:st|nd|rd|th)?(?: of)? " + MONTH + r"\b(?:,? \d{4}\b)?"),
    rx(r"\b\d{1,2}(?:st|nd|rd|th)\b"),
    rx(r"\b\d{1,4}[/-]\d{1,2}(?:[/-]\d{1,4})?\b"),
    rx(r"\b\d{1,2}(?::\d{2})? ?(?:am|pm|a\.m\.|p\.m\.|o'?clock)"),
    rx(r"\b\d{1,2}:\d{2}\b"),
    rx(r"\b\d+ ?(?:days?|weeks?|months?|years?|hours?|hrs?|minutes?|mins?|times|percent|transactions?|payments?|digits?)\b"),
    rx(r"\d+(?:\.\d+)? ?%"),
    rx(r"\b(?:in|since|of|year|during|until|before|after) (?:19|20)\d{2}\b"),
)
_UNIT = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
_TENS = r"(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
_DIGIT = r"(?:one|two|three|four|five|six|seven|eight|nine)"
# Rule 2: "two fifty dollars", "twelve ninety nine bucks", "at two thirty" (a time).
_PAIR = rx(r"(\bat )?\b(" + _UNIT + r")[ -](" + _TENS + r")(?:[ -](" + _DIGIT + r"))?\b( ?[a-z']*)")
# Loose quantities: "a couple hundred" is 200 and "half a grand" 500; "a few hundred" is no amount.
_COUPLE = rx(r"\b(?:a )?couple(?: of)? (hundred|thousand|grand)\b")
_HALF = rx(r"\bhalf (?:a |of a )?(grand|thousand|k|million)\b")
_VAGUE = rx(r"\b(?:a few|few|several|some|a bunch of|many|lots of|a lot of) (?:hundred|thousand|grand)s?\b")
_HALF_VALUE = {"grand": "500", "thousand": "500", "k": "500", "million": "500000"}
_SMALL = rx(r"\b(zero|one|two|a|an) (dollars?|bucks?|pounds?|quid|euros?|cents?|pence|grand)\b")
_UNITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS_WORDS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_WORD_VALUE = {word: i for i, word in enumerate(_UNITS)} | {word: 10 * (i + 2) for i, word in enumerate(_TENS_WORDS)}
_SMALL_VALUE = {"zero": "0", "one": "1", "two": "2", "a": "1", "an": "1"}
_AMBIGUOUS = "<ambiguous>"
_AMOUNT = rx(
    r"(?P<sign>-|\bminus |\bnegative )?(?P<cur1>[$£€]|\busd |\bgbp |\beur )?(?P<sign2>-)? ?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?P<tail>,?\d)?"
    r"(?P<mult> ?k\b|m\b| ?thousand\b| ?grand\b| ?million\b)?"
    r"(?P<cur2> ?(?:dollars?|bucks?|usd|pounds?|quid|gbp|euros?|eur|cents?|pence)\b|p\b)?"
    r"(?: and (?P<sub>\d{1,2}) ?(?:cents?|pence|p)\b)?"
)
_CURRENCY_WORDS = {"dollar", "dollars", "buck", "bucks", "pound", "pounds", "quid", "euro", "euros"}
_TIME_WORDS = {"am", "pm", "o'clock", "oclock"}


def _pair(match) -> str:
    """Rule 2 for one "two fifty ..." span."""
    at, first, tens, digit, after = match.groups()
    following = after.strip()
    if at or following in _TIME_WORDS:
        return " | "
    value = _WORD_VALUE[first] * 100 + _WORD_VALUE[tens] + (_WORD_VALUE[digit] if digit else 0)
    if following in _CURRENCY_WORDS:
        return f" {value}{after}"
    return f" {_AMBIGUOUS}{after}"


def parse_amount(text: str) -> Money | None:
    """The amount of money `text` states, or None when it states none (see the module's rules)."""
    s = normalise(text)
    if not s:
        return None
    s = _PAIR.sub(_pair, s)
    s = _COUPLE.sub(lambda m: f"two {m.group(1)}", s)
    s = _HALF.sub(lambda m: f" {_HALF_VALUE[m.group(1)]} ", s)
    s = _VAGUE.sub(f" {_AMBIGUOUS} ", s)
    s = _SMALL.sub(lambda m: f"{_SMALL_VALUE[m.group(1)]} {m.group(2)}", s)
    if s.strip(" .!?,") in ("zero", "one", "two"):  # a bare reply to "how much?"
        s = _SMALL_VALUE[s.strip(" .!?,")]
    s = words_to_digits(s)
    for pattern in _NOT_AMOUNTS:
        s = pattern.sub(" | ", s)
    # "1,2000" or "1,1,1": digits that run on past the number mean it is not one.
    candidates = [m for m in _AMOUNT.finditer(s) if m.group("num") and not m.group("tail")]
    explicit = [m for m in candidates if m.group("cur1") or m.group("cur2")]
    if not explicit and _AMBIGUOUS in s:
        return None
    for match in explicit + candidates:
        money = _money(match)
        if money is not None:
            return money
    return None


def _money(match) -> Money | None:
    number = match.group("num").replace(",", "")
    if len(number.split(".")[0]) > _MAX_INTEGER_DIGITS:
        return None
    marker = (match.group("cur1") or match.group("cur2") or "").strip()
    currency = _CURRENCY_OF.get(marker, "USD")
    try:
        amount = Decimal(number)
    except InvalidOperation:
        return None
    mult = (match.group("mult") or "").strip()
    if mult:
        amount *= _MULTIPLIER[mult]
    elif marker in _SUBUNIT:
        amount /= 100
    if match.group("sub"):
        amount += Decimal(match.group("sub")) / 100
    if match.group("sign") or match.group("sign2"):
        amount = -amount
    return Money(amount.quantize(_CENT, rounding=ROUND_HALF_UP), currency)
