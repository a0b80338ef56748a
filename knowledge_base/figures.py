"""Figures (amounts, rates, counts, times) in a comparable form.

Shared by the runtime's grounding guard (assistant/core) and fine-tuning evaluation
(finetune/), so both judge figures exactly alike.
"""

from __future__ import annotations

import re

_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}
# The one list of number words: the figure guard's streaming check (assistant/core/answering.py) holds
# back text from the first of them, so a word this list lacks would reach the customer unchecked.
NUMBER_WORDS: tuple[str, ...] = tuple(sorted(_WORDS, key=len, reverse=True))
_WORD_RE = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", re.I)
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})\b")
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(\s*(?:k|thousand|million))?", re.I)
_CITATION_MARK = re.compile(r"\[\d{1,2}\]")
_SCALE = {"k": 1_000, "thousand": 1_000, "million": 1_000_000}


def _norm(integer: str, fraction: str | None, scale: str | None) -> str:
    value = float(integer.replace(",", "") + ("." + fraction if fraction else ""))
    if scale:
        value *= _SCALE[scale.strip().lower()]
    return f"{value:.4f}".rstrip("0").rstrip(".")


def figures(text: str) -> set[str]:
    """Normalised figures: '$1,000.00' -> '1000', '4.50%' -> '4.5', 'sixty' -> '60', '4:00' -> '4:00'."""
    text = _CITATION_MARK.sub(" ", text)
    out: set[str] = set()
    for h, m in _TIME.findall(text):
        out.add(f"{int(h)}:{m}")
    text = _TIME.sub(" ", text)
    for integer, fraction, scale in _NUMBER.findall(text):
        out.add(_norm(integer, fraction or None, scale or None))
    for word in _WORD_RE.findall(text):
        out.add(str(_WORDS[word.lower()]))
    return out


# Where a rule is written down, not what it says: "12 CFR 1005.11(c)(2)", "31 CFR 1010.311, 1010.313
# and 1010.314", "UCC 4-403(b)", "section 326", "§ 229.10".
_SECTION = r"\d+(?:[.-]\d+)?(?:\([a-z0-9]{1,4}\))*"
_LEGAL_REFERENCE = re.compile(
    rf"(?:\bsection\s+)?\b\d+\s+(?:CFR|U\.S\.C\.)\s+{_SECTION}(?:(?:,\s*|\s+and\s+|\s+through\s+){_SECTION})*"
    rf"|\b(?:UCC|U\.C\.C\.)\s*(?:§\s*)?{_SECTION}|\bsection\s+{_SECTION}|§+\s*{_SECTION}",
    re.I,
)


def answer_figures(text: str) -> set[str]:
    """`figures`, leaving out the numbers of legal references: "Under 12 CFR 1005.17, a bank ..."
    states no amount, deadline or date."""
    return figures(_LEGAL_REFERENCE.sub(" ", text))


def supported(evidence: list[str]) -> set[str]:
    known: set[str] = set()
    for text in evidence:
        known |= figures(text)
    # A time stated as "4 p.m." in a passage supports "4:00" in a reply, and vice versa.
    known |= {k.split(":")[0] for k in known if ":" in k and k.endswith(":00")}
    known |= {f"{k}:00" for k in known if k.isdigit() and int(k) <= 12}
    return known


def unsupported_figures(reply: str, evidence: list[str]) -> list[str]:
    """Figures in the reply that no evidence text states."""
    known = supported(evidence)
    return sorted(f for f in figures(reply) if f not in known)
