"""Dates: "last Friday", "on the 3rd", "yesterday", "3 days ago", "March 5", "2026-11-30", "11/30".

The date phrase is found with the patterns below and read as follows:
- ISO ("2026-11-30") and US numeric ("11/30", "11/30/2025") dates are read here; a numeric date
  without a year is the most recent one not after `today`.
- A bare day of the month ("on the 3rd", "the twentieth") is the most recent such day up to and
  including `today`, or the first one after `today` when the text says next/upcoming/coming
  (dateparser reads "3rd" as March, so it does not get these).
- "the 3rd of last month" / "of this month" / "of next month" is read here.
- Everything else (weekdays, yesterday, "3 days ago", "march 5") goes to dateparser with
  PREFER_DATES_FROM=past and RELATIVE_BASE=today, at most DATEPARSER_MAX_CHARS characters of it.
The phrase that starts first in the text wins. None when there is no date.
"""

from __future__ import annotations

from datetime import date, datetime, time

import dateparser

from ._text import MONTH, normalise, rx, words_to_digits

DATEPARSER_MAX_CHARS = 200  # dateparser runs many regexes of its own: it never sees more than this
_FORWARD = rx(r"\b(?:next|upcoming|coming)\b")
# text2num leaves "first" and "second" alone (mostly not ordinals: "a second ago"); as days they
# follow "the" or a month: "on the first", "december second".
_FIRST_SECOND = rx(r"\b(the|" + MONTH + r")\.? (first|second)\b")
_ORDINAL = {"first": "1st", "second": "2nd"}
_ISO = rx(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC = rx(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b")
_OFMONTH = rx(r"\b(\d{1,2})(?:st|nd|rd|th)? of (this|last|next|the previous|previous|the next) month\b")
_BARE_DAY = rx(r"\b(\d{1,2})(?:st|nd|rd|th)\b( of " + MONTH + r"\b| " + MONTH + r"\b)?")
_BY_DATEPARSER = (
    rx(r"\b" + MONTH + r"\.? \d{1,2}(?:st|nd|rd|th)?\b(?:,? \d{4}\b)?"),
    rx(r"\b\d{1,2}(?:st|nd|rd|th)?(?: of)? " + MONTH + r"\b(?:,? \d{4}\b)?"),
    rx(r"\b(?:the )?(?:day before yesterday|day after tomorrow|yesterday|today|tonight|tomorrow)\b"),
    rx(r"\b(?:\d{1,3}|a|an) (?:days?|weeks?|months?|years?) ago\b"),
    rx(r"\bin (?:\d{1,3}|a|an) (?:days?|weeks?)\b"),
    rx(r"\b(?:(?:last|next|this|past|coming|upcoming) )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"),
    rx(r"\b(?:last|this|next|past) (?:week|month)\b"),
)


def parse_date(text: str, *, today: date) -> date | None:
    """The date `text` names, relative to `today` (see the module's rules), or None."""
    s = _FIRST_SECOND.sub(lambda m: f"{m.group(1)} {_ORDINAL[m.group(2)]}", normalise(text)[:DATEPARSER_MAX_CHARS])
    s = words_to_digits(s)  # "the third" -> "the 3rd", "three days ago" -> "3 days ago"
    if not s:
        return None
    found = []  # (start, -length, resolver, match)
    for pattern, resolve in ((_ISO, _iso), (_NUMERIC, _numeric), (_OFMONTH, _of_month), (_BARE_DAY, _bare_day)):
        found += [(m.start(), -len(m.group(0)), resolve, m) for m in pattern.finditer(s)]
    for pattern in _BY_DATEPARSER:
        found += [(m.start(), -len(m.group(0)), _by_dateparser, m) for m in pattern.finditer(s)]
    forward = _FORWARD.search(s) is not None
    for _start, _length, resolve, match in sorted(found, key=lambda f: f[:2]):
        result = resolve(match, today, forward)
        if result is not None:
            return result
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _iso(match, today: date, forward: bool) -> date | None:
    return _safe_date(*(int(g) for g in match.groups()))


def _numeric(match, today: date, forward: bool) -> date | None:
    month, day, year = match.groups()
    if year:
        return _safe_date(int(year) + (2000 if len(year) == 2 else 0), int(month), int(day))
    found = _safe_date(today.year, int(month), int(day))
    if found is not None and found > today:
        found = _safe_date(today.year - 1, int(month), int(day))
    return found


def _shift_month(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + by
    return index // 12, index % 12 + 1


def _of_month(match, today: date, forward: bool) -> date | None:
    day, which = match.groups()
    by = {"this": 0, "last": -1, "previous": -1, "the previous": -1, "next": 1, "the next": 1}[which]
    return _safe_date(*_shift_month(today.year, today.month, by), int(day))


def _bare_day(match, today: date, forward: bool) -> date | None:
    if match.group(2):  # "3rd of march": a month name follows, dateparser's pattern reads it
        return None
    day = int(match.group(1))
    if not 1 <= day <= 31:
        return None
    step = 1 if forward else -1
    for by in range(0, 13 * step, step):  # the 31st comes round within a few months
        found = _safe_date(*_shift_month(today.year, today.month, by), day)
        if found is not None and (found > today if forward else found <= today):
            return found
    return None


_SYNONYM = rx(r"\b(?:upcoming|coming|past)\b")  # dateparser knows only next/last/this


def _by_dateparser(match, today: date, forward: bool) -> date | None:
    phrase = _SYNONYM.sub(lambda m: "last" if m.group(0) == "past" else "next", match.group(0))
    settings = {"PREFER_DATES_FROM": "past", "RELATIVE_BASE": datetime.combine(today, time()),
                "RETURN_AS_TIMEZONE_AWARE": False, "DATE_ORDER": "MDY"}
    try:
        found = dateparser.parse(phrase, languages=["en"], settings=settings)
    except Exception:  # dateparser's own bugs (overflow on huge offsets) must not reach the caller
        return None
    return found.date() if found is not None else None

