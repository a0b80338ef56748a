"""Normalised entities for self-service flows: amounts, dates, accounts, payees, yes/no, cancel, codes.

Pure functions of the text (and `today` for dates): no I/O, no state, and no exception for any
string; they return None (or PayeeMatch "none") when the text holds no such entity.

Libraries:
- Number words: text2num (`alpha2digit`), not word2number: it converts the number words inside
  running text and leaves the rest ("send twelve hundred to maria" -> "send 1200 to maria"),
  handles ordinals ("the third" -> "the 3rd") and digit sequences ("five five two" -> "5 5 2"),
  and is a maintained Rust extension; word2number only converts a whole string that is one number.
- Regular expressions: google-re2, linear in the input by construction (no backtracking). Every
  pattern is registered in PATTERNS so a test can run them on adversarial input; every parser
  also reads at most MAX_CHARS characters.
- Dates: dateparser (relative dates, weekdays, month names) behind our own phrase patterns.
- Payees: rapidfuzz.
"""

from ._text import _REGISTRY, MAX_CHARS
from .accounts import AccountRef, parse_account, parse_accounts_from_to, parse_card_last4, parse_digits
from .dates import DATEPARSER_MAX_CHARS, parse_date
from .money import Money, parse_amount
from .payees import AMBIGUITY_MARGIN, TOKEN_MIN_SCORE, PayeeMatch, match_payee
from .replies import is_cancel, parse_yes_no

PATTERNS = tuple(_REGISTRY)

__all__ = [
    "AMBIGUITY_MARGIN", "DATEPARSER_MAX_CHARS", "MAX_CHARS", "PATTERNS", "TOKEN_MIN_SCORE",
    "AccountRef", "Money", "PayeeMatch", "is_cancel", "match_payee", "parse_account", "parse_accounts_from_to",
    "parse_amount", "parse_card_last4", "parse_date", "parse_digits", "parse_yes_no",
]
