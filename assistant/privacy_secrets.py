"""Secrets named in free text, and numbers spoken digit by digit: the parts of redaction that
read words rather than digit patterns (assistant/privacy.py applies them).

"my pin is 4821" -> "my pin is [PIN]"; "cvv 123" -> "cvv [CVV]"; "password: hunter2" ->
"password: [PASSWORD]"; "the code is 552199" -> "the code is [CODE]"; "exp 04/27" -> "exp [EXPIRY]".
A transcript says digits as words ("four one one one ..."): a run of seven or more is a number
(card, phone or account); a shorter run is masked when a secret's keyword precedes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_DIGIT_WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_DIGIT_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
_WORD_GAP = r"[\s,.-]{1,3}"
_SPOKEN_RUN = re.compile(rf"(?i)\b{_DIGIT_WORD}(?:{_WORD_GAP}{_DIGIT_WORD}){{6,29}}\b")
_SPOKEN_SHORT = rf"{_DIGIT_WORD}(?:{_WORD_GAP}{_DIGIT_WORD}){{2,7}}\b"
SPOKEN_MIN_DIGITS = 7

_SAID = r"[^\S\n]{0,3}(?:(?:is|was|are|:|=|#|-)[^\S\n]{0,3}){0,2}"
_CODE_DIGITS = rf"(?:\d(?:[ -]?\d){{2,7}}(?!\d)|{_SPOKEN_SHORT})"
_EXPIRY_DATE = r"(?:0?[1-9]|1[0-2])[^\S\n]?[/.-][^\S\n]?(?:20\d\d|\d\d)(?![/.-]?\d)"  # not a whole date: 12/31/2025
# Words that follow "password is" without being one: "my password is not working".
_NOT_A_PASSWORD = (
    "not|no|wrong|incorrect|invalid|locked|expired|correct|right|too|very|still|being|the|my|a|an|blocked|working|"
    "reset|changed|forgotten|required|weak|strong|long|short|needed|compromised|stolen|same|different|new|old|"
    "what|how|it|that|this|case|empty|missing|gone|lost|saved|set|there|ok|okay|fine"
)
_PASSWORD_VALUE = rf"(?!(?:{_NOT_A_PASSWORD})[.,!?;:]?(?:\s|$))[^\s\"'“”]{{1,64}}"

SECRETS: tuple[tuple[str, re.Pattern], ...] = (
    ("CVV", re.compile(
        rf"(?i)\b(?:cvv2?|cvc2?|csc|cvn|card security code|security code|card verification (?:value|code|number))\b{_SAID}"
        rf"({_CODE_DIGITS})")),
    ("EXPIRY", re.compile(
        rf"(?i)\b(?:exp\.?|expiry|expiration|expires?|expiring|valid (?:thru|through|until))(?:[^\S\n]{{1,3}}date)?{_SAID}"
        rf"({_EXPIRY_DATE})")),
    ("PIN", re.compile(rf"(?i)\bpin(?:[^\S\n]{{1,3}}(?:number|code|no\.?))?\b{_SAID}({_CODE_DIGITS})")),
    ("CODE", re.compile(
        rf"(?i)(?<!zip )(?<!area )(?<!postal )(?<!sort )(?<!swift )(?<!promo )(?<!bic )(?<!branch )(?<!tracking )(?<!error )"
        rf"(?<!status )(?<!reason )(?<!tax )"
        rf"\b(?:otp|passcode|code|one[- ]time (?:pass)?code|verification number)\b{_SAID}({_CODE_DIGITS})")),
    ("PASSWORD", re.compile(
        rf"(?i)\b(?:password|passwd|pwd|passphrase|pass word)[^\S\n]{{0,3}}(?:is|was|:|=)[^\S\n]{{0,3}}:?[^\S\n]{{0,3}}"
        rf"({_PASSWORD_VALUE})")),
)


def spoken_digits(words: str) -> str:
    return "".join(_DIGIT_WORDS[w.lower()] for w in re.findall(r"[A-Za-z]+", words))


def spoken_numbers(text: str, found: dict[str, int], *, card_ok: Callable[[str], bool]) -> str:
    """Masks runs of SPOKEN_MIN_DIGITS or more digit words: a card (Luhn-valid, 13-19 digits),
    a phone number (10 or 11) or any other account-like number."""
    def repl(m: re.Match) -> str:
        digits = spoken_digits(m.group(0))
        if 13 <= len(digits) <= 19 and card_ok(digits):
            label = "CARD"
        elif len(digits) in (10, 11):
            label = "PHONE"
        else:
            label = "ACCOUNT"
        found[label] = found.get(label, 0) + 1
        return f"[{label}]"

    return _SPOKEN_RUN.sub(repl, text)
