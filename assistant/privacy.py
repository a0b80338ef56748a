"""PII redaction applied before customer text reaches a log, the database or a model.

Card numbers are Luhn-checked and IBANs mod-97-checked, so ordinary figures ("$2,500",
"60 days") are left alone while real identifiers are masked however they are typed: with
spaces, tabs, non-breaking spaces, dots, dashes, "_" or "/", or spoken digit by digit
("four one one one ..."). Secrets in free text (PIN, CVV, expiry, passwords, one-time codes)
are masked after their keyword ("my pin is 4821" -> "my pin is [PIN]").

Every pattern here runs in linear time on any input (tests/unit/test_regex_linear.py): no two
adjacent parts of a pattern can match the same characters, and repeats are bounded.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from assistant.privacy_secrets import SECRETS, spoken_numbers

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,7}\.?"
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{1,2}-\d{1,2}|"
    rf"{_MONTH}\s{{1,3}}\d{{1,2}}(?:st|nd|rd|th)?,?\s{{1,3}}\d{{4}}|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s{{1,3}}{_MONTH},?\s{{1,3}}\d{{4}})"
)
# Between the digits of one number: up to two blanks, then at most one of - . _ / and two blanks more.
# "4111.1111.1111.1111", "4111  1111\t1111 1111", "123.45.6789", "4111 - 1111 - ..."
_GAP = r"[ \t\u00a0]{0,2}(?:[-._/][ \t\u00a0]{0,2})?"
_GAP_NONEMPTY = r"(?:[ \t\u00a0]{1,2}(?:[-._/][ \t\u00a0]{0,2})?|[-._/][ \t\u00a0]{0,2})"
_BLANKS = r"(?:[ \t\u00a0]{1,2}|-)?"  # a typed account or mistyped card number: blanks or a dash
_SAID = r"\s{0,3}(?:(?:is|was|:|#|=)\s{0,3}){0,2}"  # "ssn is: ", "account # ", "dob - "

EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}")
# Candidates only: the longest prefix with valid check digits is masked (see `_iban`).
IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ \t\u00a0-]{0,2}[A-Za-z0-9]){11,30}")
# Candidates: a run of 13 to 41 digits; masked whole when 13 to 19 of its digits, whole groups, pass
# Luhn (see `_card`): "4111.1111.1111.1111/04/27" and "4111 1111 1111 1111 123" are a card and more.
CARD = re.compile(rf"(?<![\d$])\d(?:{_GAP}\d){{12,40}}")
CARD_LIKE = re.compile(rf"(?<![\d$])\d(?:{_BLANKS}\d){{12,18}}(?!\d)")
SSN = re.compile(
    rf"(?<![\d.])\d{{3}}{_GAP_NONEMPTY}\d{{2}}{_GAP_NONEMPTY}\d{{4}}(?!\d|\.\d)"
    rf"|(?i:\b(?:ssn|social security(?: number| no\.?)?){_SAID})\d{{9}}(?!\d)"
)
DOB = re.compile(rf"(?i)\b(?:dob|d\.o\.b\.|date of birth|birth ?date|birthday|born(?: on)?)\b{_SAID}{_DATE}")
PHONE = re.compile(
    r"(?<![\w$])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\d)"
    r"|(?<![\w$])\+\d{1,3}(?:[\s.-]?\d){7,12}(?!\d)"
)
ACCOUNT_KW = re.compile(
    rf"(?i)\b(?:account|acct|a/c|routing)(?:\s{{1,3}}(?:number|no\.?|num|#))?{_SAID}(\d(?:{_BLANKS}\d){{3,19}})"
)
LONG_DIGITS = re.compile(r"(?<![\d$.,])\d{8,19}(?!\d|[.,]\d)")


def luhn_ok(digits: str) -> bool:
    total, alt = 0, False
    for ch in reversed(digits):
        d = int(ch)
        if alt:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        alt = not alt
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    s = re.sub(r"[\s-]", "", candidate).upper()
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s.isalnum():
        return False
    rearranged = s[4:] + s[:4]
    try:
        return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
    except ValueError:
        return False


# IBAN length by country (ISO 13616 registry): a candidate is checked at exactly this length, so ordinary
# words after a code-like token ("ok12 please send me ...") are never tried as the rest of an IBAN.
_IBAN_LENGTHS = {country: int(n) for country, n in re.findall(r"([A-Z]{2})(\d\d)",
    "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 EE20 EG29 "
    "ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 "
    "LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 "
    "PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 "
    "YE30")}


def _iban(m: re.Match) -> str | None:
    """The IBAN the candidate starts with, when its check digits hold: "GB82WEST12345698765432 please"
    is a candidate up to "please" (a group may follow a space inside an IBAN), an IBAN up to "32"."""
    whole = m.group(0)
    want, seen = _IBAN_LENGTHS.get(whole[:2].upper()), 0
    for end, ch in enumerate(whole, 1):
        seen += ch.isalnum()
        if seen == want:
            return "[IBAN]" + whole[end:] if iban_ok(whole[:end]) else None
    return None


def _card(candidate: str) -> bool:
    """Some whole groups of the candidate's digits, 13 to 19 of them, form a Luhn-valid number.

    Each window is checked in constant time from two running sums (digits doubled at odd or at even
    places), so a long run costs no more than reading it."""
    digits = [int(c) for c in candidate if c.isdigit()]
    ends, at = [], 0
    for group in re.findall(r"\d+", candidate):
        at += len(group)
        ends.append(at)
    starts = [0, *ends[:-1]]
    odd, even = [0], [0]  # odd[k]: digits before k, those at odd places doubled; even[k]: at even places
    for i, d in enumerate(digits):
        doubled = d * 2 - 9 if d > 4 else d * 2
        odd.append(odd[-1] + (doubled if i % 2 else d))
        even.append(even[-1] + (d if i % 2 else doubled))
    for a in starts:
        for b in ends:
            if 13 <= b - a <= 19:
                # from the right end, every second digit is doubled: those whose place differs in parity from b - 1
                sums = odd if (b - 1) % 2 == 0 else even
                if (sums[b] - sums[a]) % 10 == 0:
                    return True
    return False


@dataclass
class Redaction:
    text: str
    found: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.found)


def redact(text: str) -> Redaction:
    found: dict[str, int] = {}

    def sub(pattern: re.Pattern, label: str, s: str, check=None, group: int = 0) -> str:
        def repl(m: re.Match) -> str:
            value = m.group(group)
            if check is not None and not check(value):
                return m.group(0)
            found[label] = found.get(label, 0) + 1
            whole = m.group(0)
            start, end = m.start(group) - m.start(0), m.end(group) - m.start(0)
            return whole[:start] + f"[{label}]" + whole[end:]

        return pattern.sub(repl, s)

    def iban(m: re.Match) -> str:
        masked = _iban(m)
        if masked is None:
            return m.group(0)
        found["IBAN"] = found.get("IBAN", 0) + 1
        return masked

    s = spoken_numbers(text, found, card_ok=luhn_ok)
    s = sub(EMAIL, "EMAIL", s)
    s = IBAN.sub(iban, s)
    s = sub(CARD, "CARD", s, check=_card)
    s = sub(CARD_LIKE, "ACCOUNT", s)  # a mistyped card number is still somebody's number
    s = sub(SSN, "SSN", s)
    s = sub(DOB, "DOB", s)
    for label, pattern in SECRETS:
        s = sub(pattern, label, s, group=1)
    s = sub(PHONE, "PHONE", s)
    s = sub(ACCOUNT_KW, "ACCOUNT", s, group=1)
    s = sub(LONG_DIGITS, "ACCOUNT", s)
    return Redaction(text=s, found=found)


class RedactingFilter(logging.Filter):
    """Masks PII in every log record, whatever code emitted it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message).text
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
