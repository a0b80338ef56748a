"""Accounts ("my savings", "the one ending 4821"), card last four digits, and spoken or typed codes.

Number words count as digits here ("ending in four eight two one" -> "4821").
- An account is named by its kind (checking, savings, credit) and/or its last four digits, which
  follow "ending/ends (in|with)", a mask ("...4821", "x4821", "****4821"), "acct/account (number)",
  or "last four (digits) (is/are)". Exactly four digits: "ending 48215" names no last four.
- parse_account returns the first account mentioned; parse_accounts_from_to splits the text at
  "from"/"out of"/"use" (source) and "to"/"into"/"onto" (destination), and when there is no "from",
  an account before the first "to" is the source ("savings to checking").
"""

from __future__ import annotations

from dataclasses import dataclass

from ._text import normalise, rx, words_to_digits


@dataclass(frozen=True, slots=True)
class AccountRef:
    kind: str | None  # "checking" | "savings" | "credit" | None
    last4: str | None  # "4821"


_FOUR = r"(\d(?:[ -]?\d){3})\b"
_LAST4 = (
    rx(r"\b(?:ending|ends|end|finishing|finishes)(?: in| with| on)?:? ?(?:number |no\.? )?#?" + _FOUR),
    rx(r"(?:\.{2,3}|\bx{1,12}|\*{1,12}|#) ?(\d{4})\b"),
    rx(r"\b(?:acct|account|acc|a/c|card)\.?(?: number| no\.?| num)?(?: is)?:? ?#?(\d{4})\b"),
    rx(r"\blast (?:four|4)(?: digits| numbers)?(?: of (?:my|the) [a-z]{1,12}(?: [a-z]{1,12})?)?(?: is| are|:)? ?" + _FOUR),
)
_KINDS = (
    ("checking", rx(r"\b(?:checking|chequing|current account|cheque account|check account)\b")),
    ("savings", rx(r"\b(?:savings|saving account)\b")),
    ("credit", rx(r"\b(?:credit card|credit account|credit line|line of credit|(?:my|the|from|to|into|on) credit)\b")),
)
_SOURCE = rx(r"\b(?:from|out of|use|using)\b")
_DESTINATION = rx(r"\b(?:to|into|onto|in to)\b")
_NOT_DIGIT = rx(r"[^0-9]+")
_DIGIT_RUN = rx(r"\d(?:[ ,.-]{0,2}\d)*")
_OH = rx(r"\b(?:oh|o)\b")  # "five oh five" on the phone is 505
_REPEAT = rx(r"\b(double|triple) ([a-z]+|\d)\b")  # "double five" is 55


def _last4(s: str) -> str | None:
    """First last-four mention in the normalised, digit-converted text `s`."""
    found = [m for pattern in _LAST4 for m in pattern.finditer(s)]
    if not found:
        return None
    first = min(found, key=lambda m: m.start())
    return _NOT_DIGIT.sub("", first.group(1))


def _account(s: str) -> AccountRef | None:
    kinds = [(m.start(), kind) for kind, pattern in _KINDS for m in [pattern.search(s)] if m is not None]
    kind = min(kinds)[1] if kinds else None
    last4 = _last4(s)
    return AccountRef(kind, last4) if kind or last4 else None


def parse_account(text: str) -> AccountRef | None:
    """The first account `text` refers to, or None (see the module's rules)."""
    return _account(words_to_digits(normalise(text), small=True))


def parse_accounts_from_to(text: str) -> tuple[AccountRef | None, AccountRef | None]:
    """(source, destination): "from checking to savings", "move 200 to savings from my checking"."""
    s = words_to_digits(normalise(text), small=True)
    markers = sorted([(m.start(), m.end(), "from") for m in _SOURCE.finditer(s)]
                     + [(m.start(), m.end(), "to") for m in _DESTINATION.finditer(s)])
    source = destination = None
    for index, (_start, end, role) in enumerate(markers):
        stop = markers[index + 1][0] if index + 1 < len(markers) else len(s)
        ref = _account(s[end:stop])
        if role == "from" and source is None:
            source = ref
        elif role == "to" and destination is None:
            destination = ref
    if source is None and markers and not any(role == "from" for *_, role in markers):
        source = _account(s[:markers[0][0]])
    return source, destination


def parse_card_last4(text: str) -> str | None:
    """"card ending 1234", "the one ending in 1234", "****1234" -> "1234"; else None."""
    return _last4(words_to_digits(normalise(text), small=True))


def parse_digits(text: str, *, length: int | tuple[int, int]) -> str | None:
    """A code or PIN of `length` digits (or a (min, max) range) typed or spoken in `text`.

    "552199", "5 5 2 1 9 9", "five five two one nine nine", "55-21-99", "double five two one double nine"
    -> "552199". Digits joined by
    spaces, dashes, dots or commas form one run; the answer is the one run (or the several equal
    runs) whose digit count fits. None when no run or two different runs fit.
    """
    low, high = (length, length) if isinstance(length, int) else length
    s = normalise(text)
    if not s or low < 1 or high < low:
        return None
    s = _REPEAT.sub(lambda m: " ".join([m.group(2)] * (2 if m.group(1) == "double" else 3)), _OH.sub("0", s))
    s = words_to_digits(s, small=True)
    runs = {_NOT_DIGIT.sub("", m.group(0)) for m in _DIGIT_RUN.finditer(s)}
    fitting = [run for run in runs if low <= len(run) <= high]
    return fitting[0] if len(fitting) == 1 else None
