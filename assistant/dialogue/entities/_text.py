"""Shared text helpers: one normalisation, number words to digits, and the pattern registry."""

from __future__ import annotations

import re2
from text_to_num import alpha2digit

# Every parser reads at most this many characters: an utterance is far shorter, and a cap keeps
# each call's cost bounded whatever arrives (4,000 characters of junk cost the same as 500).
MAX_CHARS = 500

_REGISTRY: list = []
# A month name or its abbreviation, as a pattern fragment: "march", "mar", "sept".
MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
         r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")


def rx(pattern: str):
    """Compile `pattern` with RE2 (linear time, no backtracking) and register it in PATTERNS."""
    compiled = re2.compile(pattern)
    _REGISTRY.append(compiled)
    return compiled


# Typographic characters that speech-to-text and phone keyboards produce, mapped to ASCII so the
# patterns stay simple: "…4821" -> "...4821", "don’t" -> "don't", "−50" -> "-50".
_ASCII = str.maketrans({"\u2026": "...", "\u2019": "'", "\u2018": "'", "\u2212": "-", "\u2013": "-",
                        "\u2014": "-", "\u00a0": " ", "\u201c": '"', "\u201d": '"'})
_SPACES = rx(r"\s+")


def normalise(text: object) -> str:
    """Lower-case, ASCII punctuation, single spaces, capped at MAX_CHARS; "" for a non-string."""
    if not isinstance(text, str):
        return ""
    # Lone surrogates ("\ud800") cannot be encoded for RE2 or the Rust number parser: "?" instead.
    text = text[:MAX_CHARS].encode("utf-8", "replace").decode("utf-8")
    return _SPACES.sub(" ", text.translate(_ASCII).lower()).strip()


def words_to_digits(text: str, *, small: bool = False) -> str:
    """Number words to digits with text2num: "twelve hundred dollars" -> "1200 dollars".

    text2num leaves isolated "zero", "one" and "two" alone unless `small` is set, because in running
    text they are mostly not numbers ("the one ending 4821"); digit contexts (codes, last four) set it.
    """
    try:
        return alpha2digit(text, "en", threshold=0 if small else 3)
    except Exception:  # the library must never turn odd input into a crash of the caller
        return text
