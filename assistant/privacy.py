"""PII redaction applied before customer text reaches a log, the database or a model.

Card numbers are Luhn-checked and IBANs mod-97-checked, so ordinary figures ("$2,500",
"60 days") are left alone while real identifiers, typed with spaces or dashes, are masked.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{1,2}-\d{1,2}|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|"
    r"\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+\d{4})"
)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,30}\b")
CARD = re.compile(r"(?<![\d$])\d(?:[ -]?\d){12,18}(?!\d)")
SSN = re.compile(
    r"(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?!\d)|(?i:(?:ssn|social security(?: number)?)\s*(?:is|:|#)?\s*)\d{9}(?!\d)"
)
DOB = re.compile(
    rf"(?i)\b(?:dob|d\.o\.b\.|date of birth|birth ?date|birthday|born(?: on)?)\b\s*(?:is|was|:)?\s*{_DATE}"
)
PHONE = re.compile(
    r"(?<![\w$])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\d)"
    r"|(?<![\w$])\+\d{1,3}(?:[\s.-]?\d){7,12}(?!\d)"
)
ACCOUNT_KW = re.compile(
    r"(?i)\b(?:account|acct|a/c|routing)(?:\s+(?:number|no\.?|num|#))?\s*(?:is|:|#)?\s*(\d(?:[ -]?\d){3,19})"
)
LONG_DIGITS = re.compile(r"(?<![\d$.,])\d{8,19}(?![\d,]|\.\d)")


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
    s = re.sub(r"[ -]", "", candidate).upper()
    if not 15 <= len(s) <= 34 or not s[:2].isalpha():
        return False
    rearranged = s[4:] + s[:4]
    try:
        return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
    except ValueError:
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
            return whole.replace(value, f"[{label}]") if group else f"[{label}]"

        return pattern.sub(repl, s)

    s = sub(EMAIL, "EMAIL", text)
    s = sub(IBAN, "IBAN", s, check=iban_ok)
    s = sub(CARD, "CARD", s, check=lambda v: luhn_ok(re.sub(r"\D", "", v)))
    s = sub(CARD, "ACCOUNT", s)  # a mistyped card number is still somebody's number
    s = sub(SSN, "SSN", s)
    s = sub(DOB, "DOB", s)
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
