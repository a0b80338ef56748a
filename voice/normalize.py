"""Text normalisation for speech: what a good agent would say, not what the text shows.

"$1,250.50" -> "one thousand two hundred fifty dollars and fifty cents"; card, account and
routing numbers digit by digit, in groups; "4:00 p.m. ET" -> "four p.m. Eastern Time";
"03/15/2025" -> "March fifteenth, twenty twenty-five"; APR, APY, ATM spelled out; PIN
said as a word. Numbers become words with num2words (a well-kept library), so Piper's
own espeak rules never guess at a figure.
"""

from __future__ import annotations

import re

from num2words import num2words

_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
_MONTH_ABBR = {m[:3].lower(): m for m in _MONTHS} | {"sept": "September"}

SPELLED = ("APR", "APY", "ATM", "FDIC", "ACH", "CD", "CDs", "ID", "IRA", "IRAs", "SSN", "ITIN", "USD", "FAQ", "EFT", "ABA", "IBAN", "SWIFT")
_WORDS = {
    "PIN": "pin", "PINs": "pins", "ET": "Eastern Time", "EST": "Eastern Time", "PT": "Pacific Time",
    "e.g.": "for example", "i.e.": "that is", "etc.": "et cetera", "vs.": "versus", "approx.": "approximately",
    "Mon": "Monday", "Tue": "Tuesday", "Wed": "Wednesday", "Thu": "Thursday", "Fri": "Friday", "Sat": "Saturday",
    "Sun": "Sunday", "&": "and", "Dept.": "department",
    # redaction placeholders, should one reach a reply
    "[CARD]": "that card number", "[ACCOUNT]": "that number", "[PHONE]": "that phone number",
    "[EMAIL]": "that email address", "[SSN]": "that number", "[IBAN]": "that number", "[DOB]": "that date",
}


def cardinal(n: int) -> str:
    """US style: no 'and' inside a number, no commas."""
    return num2words(n).replace(" and ", " ").replace(",", "")


def digits(s: str) -> str:
    return " ".join(_DIGITS[int(c)] for c in s if c.isdigit())


def _grouped_digits(m: re.Match) -> str:
    groups = [g for g in re.split(r"[\s-]+", m.group(0)) if g]
    if len(groups) == 1 and len(groups[0]) > 4:  # 000111222 -> "zero zero zero, one one one, ..." as an agent reads it
        g = groups[0]
        groups = [g[i : i + 3] for i in range(0, len(g), 3)]
        if len(groups[-1]) == 1:
            groups[-2] += groups.pop()
    return ", ".join(digits(g) for g in groups)


def _money(m: re.Match | _Scaled) -> str:
    whole, cents, scale = m.group(1).replace(",", ""), m.group(2), m.group(3)
    if scale:
        amount = whole + (("." + cents) if cents else "")
        return f"{_decimal(amount)} {scale.lower()} dollars"
    dollars = int(whole)
    c = int((cents or "0").ljust(2, "0")[:2])
    if dollars == 0 and c:
        return f"{cardinal(c)} cent{'s' * (c != 1)}"
    out = f"{cardinal(dollars)} dollar{'s' * (dollars != 1)}"
    return out + (f" and {cardinal(c)} cent{'s' * (c != 1)}" if c else "")


def _decimal(s: str) -> str:
    whole, _, frac = s.replace(",", "").partition(".")
    out = cardinal(int(whole or "0"))
    return out + (" point " + digits(frac) if frac else "")


def _time(m: re.Match) -> str:
    h, mins, ampm = int(m.group(1)), m.group(2), (m.group(3) or "")
    spoken = cardinal(h)
    if mins and mins != "00":
        spoken += (" oh " + cardinal(int(mins)) if mins.startswith("0") else " " + cardinal(int(mins)))
    elif not ampm:
        spoken += " o'clock"
    if ampm:
        spoken += " " + ("a.m." if ampm.lower().startswith("a") else "p.m.")
    return spoken


def _ordinal_day(d: int) -> str:
    return num2words(d, to="ordinal")


def _year(y: int) -> str:
    return num2words(y, to="year").replace(" and ", " ").replace("-oh-", " oh ").replace("oh-", "oh ")


def _date(month: int, day: int, year: int | None) -> str:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise ValueError
    out = f"{_MONTHS[month - 1]} {_ordinal_day(day)}"
    return out + (f", {_year(year)}" if year else "")


def _iso_date(m: re.Match) -> str:
    try:
        return _date(int(m.group(2)), int(m.group(3)), int(m.group(1)))
    except ValueError:
        return m.group(0)


def _us_date(m: re.Match) -> str:
    try:
        y = int(m.group(3))
        return _date(int(m.group(1)), int(m.group(2)), y + 2000 if y < 100 else y)
    except ValueError:
        return m.group(0)


def _named_date(m: re.Match) -> str:
    month = _MONTH_ABBR.get(m.group(1)[:4].lower().rstrip(".")) or _MONTH_ABBR.get(m.group(1)[:3].lower())
    day, year = int(m.group(2)), m.group(3)
    if month is None or not 1 <= day <= 31:
        return m.group(0)
    return f"{month} {_ordinal_day(day)}" + (f", {_year(int(year))}" if year else "")


_RULES: list[tuple[re.Pattern, object]] = [
    (re.compile(r"\*\*|__|`|^#+\s*", re.M), ""),  # markdown emphasis and headings
    # bullets: "\n  - item" -> "item". The blank space before a bullet is taken whole at its first line
    # start, and given back when no bullet follows (one scan of it, not one per line)
    (re.compile(r"^(\s*)([-*•]\s+)?", re.M), lambda m: "" if m.group(2) else m.group(1)),
    (re.compile(r"\b24/7\b"), "twenty-four seven"),
    (re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?\s?[-–]\s?(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?"),
     lambda m: f"{_WORDS[m.group(1)]} to {_WORDS[m.group(2)]}"),
    (re.compile(r"https?://(\S+?)/?(?=[\s,;)]|$)"), lambda m: m.group(1).replace(".", " dot ").replace("/", " slash ")),
    # phone numbers: 1-800-555-0199, (800) 555-0199
    (re.compile(r"(?<![\w$])(1[\s.-])?\(?(\d{3})\)?[\s.-](\d{3})[\s.-](\d{4})(?!\d)"),
     lambda m: ("one, " if m.group(1) else "") + ", ".join(digits(g) for g in m.groups()[1:])),
    # card / account / routing numbers: 5+ digits, possibly grouped with spaces or dashes
    (re.compile(r"(?<![\d$.,])\d{4}(?:[ -]\d{4}){2,3}(?![\d])"), _grouped_digits),
    (re.compile(r"(?<![\d$.,])\d{5,}(?![\d,]|\.\d)"), _grouped_digits),
    # "ending in 1234", "ending 1234", "…4821", "last four digits 1234", "PIN 1234": digit by digit
    (re.compile(r"…(\d{2,6})\b"), lambda m: f"ending {digits(m.group(1))}"),
    (re.compile(r"(?i)\b(ending(?: in)?|last (?:four|4)(?: digits)?(?: are| of)?|pin(?: is)?|code(?: is)?|extension|ext\.?)\s+(\d{2,6})\b"),
     lambda m: f"{m.group(1)} {digits(m.group(2))}"),
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), _iso_date),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{2,4})\b"), _us_date),
    (re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b"),
     _named_date),
    (re.compile(r"(?i)\b(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s?m\.?(?=\W|$)"), _time),
    (re.compile(r"\b(\d{1,2}):(\d{2})\b()"), _time),
    (re.compile(r"\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?:\s?(thousand|million|billion|[kKmMbB])\b)?"),
     lambda m: _money(_Scaled(m))),
    # "1,250.5%": tried from the start of a run of digits and commas only ("1," x 2,000 is one try, not
    # 2,000); commas before the first digit (",5%") are kept as they were
    (re.compile(r"(?<![\d,])(,*)(\d[\d,]*(?:\.\d+)?)\s?%"), lambda m: m.group(1) + _decimal(m.group(2)) + " percent"),
    (re.compile(r"\b(\d+)(st|nd|rd|th)\b"), lambda m: num2words(int(m.group(1)), to="ordinal")),
    (re.compile(r"\b(1[89]\d\d|20\d\d)\b"), lambda m: _year(int(m.group(1)))),
    (re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\d])"), lambda m: _decimal(m.group(0))),
]


class _Scaled:
    """Adapts a money match with k/M/B suffixes to _money's groups."""

    _NAMES = {"k": "thousand", "m": "million", "b": "billion"}

    def __init__(self, m: re.Match) -> None:
        scale = m.group(3)
        self._g = (m.group(1), m.group(2), self._NAMES.get(scale.lower(), scale) if scale else None)

    def group(self, i: int):
        return self._g[i - 1]


_TOKEN = re.compile(r"(?<![\w\[])(" + "|".join(re.escape(w) for w in sorted(set(SPELLED) | set(_WORDS), key=len, reverse=True)) + r")(?![\w\]])")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # espeak rejects a NUL (the fuzzer sent one); none is ever spoken


def normalize_for_speech(text: str) -> str:
    s = _CONTROL.sub(" ", text)
    for pattern, repl in _RULES:
        s = pattern.sub(repl, s)
    s = _TOKEN.sub(lambda m: _WORDS.get(m.group(1)) or _spell(m.group(1)), s)
    s = _SPACE.sub(_space, s)
    return s.strip()


_SPACE = re.compile(r"\s+")


def _space(m: re.Match) -> str:
    """A run of white space holding a line break ends a sentence; any other run of two or more is one space."""
    run = m.group(0)
    return ". " if "\n" in run else (" " if len(run) > 1 else run)


def _spell(abbr: str) -> str:
    plural = abbr.endswith("s") and abbr[:-1].isupper()
    letters = " ".join(abbr[:-1] if plural else abbr)
    return letters + ("'s" if plural else "")
