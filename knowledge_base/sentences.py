"""Sentences of a passage, as a quoted answer picks them (and the reranker scores them)."""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"(])")
_BULLET = re.compile(r"^[^\S\n]*(?:[-*]|\d+\.)\s+", re.M)  # blanks before a bullet stay within its line
# A full stop that ends an abbreviation, not a sentence: "the U.S. Treasury", "4:00 p.m. ET",
# "P.O. Box 4160", "Martin Luther King Jr. Day". Split there, a quote stopped at "and on April 15,
# 2025 the U.S." and dropped the court that vacated the rule.
_ABBREVIATION_END = re.compile(r"\b(?:P\.O|U\.S\.C|U\.S|a\.m|p\.m|e\.g|i\.e|Jr|No|St|Mr|Ms|Dr|vs)\.$")


def sentences(text: str) -> list[str]:
    flat = _BULLET.sub("", text)
    out: list[str] = []
    for line in flat.splitlines():
        start = len(out)
        for s in (s.strip() for s in _SENTENCE.split(line) if s.strip()):
            if len(out) > start and _ABBREVIATION_END.search(out[-1]):
                out[-1] = f"{out[-1]} {s}"
            else:
                out.append(s)
    return out


def under(section: str, sentence: str) -> str:
    """A sentence read under its section heading ("60 days to send written notice: ..."): alone it
    often lacks the subject the question names."""
    return f"{section}: {sentence}" if section and section.lower() != "overview" else sentence


def passage_text(title: str, section: str, text: str) -> str:
    """What a passage is embedded as: title and section give a short section its context."""
    return f"{title}. {section}. {text}" if section else f"{title}. {text}"
