"""Property tests: no valid card number, IBAN, SSN or named secret survives redaction, however written."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.privacy import iban_ok, luhn_ok, redact

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Between the groups of a number: what people type, paste and dictate.
GAPS = ["", " ", "  ", "\t", "\u00a0", "-", ".", "_", "/", " - ", " / ", ". "]
# Around the number: digit-free, so any digit left in the redacted text is a leak.
BEFORE = ["", "my card is ", "Card number: ", "pay with ", "it's ", "number\t", "(", "use "]
AFTER = ["", ".", " please", "!", " thanks", ", is it blocked?", ")", "\n"]
_DIGITS = re.compile(r"\d")


def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable")


@st.composite
def card_numbers(draw) -> str:
    length = draw(st.integers(13, 19))
    body = draw(st.sampled_from("3456")) + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=length - 2,
                                                                   max_size=length - 2)))
    return _luhn_complete(body)


@st.composite
def grouped(draw, digits: str) -> str:
    """The digits in groups of 1 to 6, each gap drawn from GAPS (a 4-4-4-4 card, "4111.1111 1111_1111")."""
    parts, i = [], 0
    while i < len(digits):
        n = draw(st.sampled_from([4, 4, 4, 3, 5, 6, 1, 2]))
        parts.append(digits[i : i + n])
        i += n
    out = parts[0]
    for part in parts[1:]:
        out += draw(st.sampled_from(GAPS)) + part
    return out


@st.composite
def in_context(draw, written: str) -> str:
    return draw(st.sampled_from(BEFORE)) + written + draw(st.sampled_from(AFTER))


@SETTINGS
@given(st.data())
def test_no_valid_card_number_survives(data):
    card = data.draw(card_numbers())
    tail = data.draw(st.sampled_from(["", "", " 123", "/04/27", " 04/27", ".737", "  0429"]))  # expiry or CVV glued on
    text = data.draw(in_context(data.draw(grouped(card)) + tail))
    out = redact(text).text
    assert not _DIGITS.search(out), (text, out)


# Country: total IBAN length (ISO 13616).
IBAN_LENGTHS = {"DE": 22, "GB": 22, "FR": 27, "NL": 18, "ES": 24, "IT": 27, "CH": 21, "BE": 16, "NO": 15, "PL": 28,
                "MT": 31, "IE": 22, "AT": 20, "LC": 32}


@st.composite
def ibans(draw) -> str:
    country = draw(st.sampled_from(sorted(IBAN_LENGTHS)))
    n = IBAN_LENGTHS[country] - 4
    letters = draw(st.integers(0, min(4, n)))  # a bank code in letters first ("WEST"), as GB, NL, MT, IE write it
    bban = "".join(draw(st.lists(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=letters, max_size=letters)))
    bban += "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=n - letters, max_size=n - letters)))
    numeric = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    iban = f"{country}{98 - numeric % 97:02d}{bban}"
    assert iban_ok(iban)
    return iban


@SETTINGS
@given(st.data())
def test_no_valid_iban_survives(data):
    iban = data.draw(ibans())
    style = data.draw(st.sampled_from(["compact", "fours", "dashes", "lower", "two spaces"]))
    written = {
        "compact": iban,
        "fours": " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)),
        "dashes": "-".join(iban[i : i + 4] for i in range(0, len(iban), 4)),
        "lower": iban.lower(),
        "two spaces": "  ".join(iban[i : i + 4] for i in range(0, len(iban), 4)),
    }[style]
    text = data.draw(st.sampled_from(["", "IBAN ", "send it to ", "iban: "])) + written + data.draw(
        st.sampled_from(["", " please", ".", " thanks a lot", "\n"]))
    out = redact(text).text
    assert not _DIGITS.search(out) and iban[4:8].lower() not in out.lower().replace("[iban]", ""), (text, out)


@st.composite
def ssns(draw) -> str:
    area = draw(st.integers(1, 899).filter(lambda a: a != 666))
    return f"{area:03d}{draw(st.integers(1, 99)):02d}{draw(st.integers(1, 9999)):04d}"


SSN_GAPS = [" ", "-", ".", "  ", "\t", "\u00a0", "/", "_", " - ", ". "]


@SETTINGS
@given(st.data())
def test_no_ssn_survives(data):
    ssn = data.draw(ssns())
    if data.draw(st.booleans()):
        gap = data.draw(st.sampled_from(SSN_GAPS))
        written = f"{ssn[:3]}{gap}{ssn[3:5]}{gap}{ssn[5:]}"
    else:
        written = ssn
    text = data.draw(st.sampled_from(["", "my ssn is ", "SSN: ", "social security number ", "ssn#"])) + written + data.draw(
        st.sampled_from(AFTER))
    out = redact(text).text
    assert not _DIGITS.search(out), (text, out)


SPOKEN = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@SETTINGS
@given(st.data())
def test_no_card_number_spoken_digit_by_digit_survives(data):
    card = data.draw(card_numbers())
    sep = data.draw(st.sampled_from([" ", ", ", " - ", "  "]))
    words = sep.join(("oh" if d == "0" and data.draw(st.booleans()) else SPOKEN[int(d)]) for d in card)
    text = data.draw(st.sampled_from(["my card number is ", "it's ", "", "card "])) + words + data.draw(st.sampled_from(["", ".", " thanks"]))
    out = redact(text).text
    spoken = re.findall(r"\b(?:oh|zero|one|two|three|four|five|six|seven|eight|nine)\b", out.lower())
    assert len(spoken) < 3, (text, out)


@st.composite
def secrets(draw) -> tuple[str, str]:
    """(message, secret value): a PIN, CVV, expiry, password or one-time code named in free text."""
    kind = draw(st.sampled_from(["pin", "cvv", "expiry", "password", "code"]))
    digits = st.text("0123456789", min_size=4, max_size=6)
    if kind == "pin":
        value = draw(digits)
        template = draw(st.sampled_from(["my pin is {}", "PIN: {}", "pin number {}", "new pin = {}", "Pin {} doesn't work"]))
    elif kind == "cvv":
        value = draw(st.text("0123456789", min_size=3, max_size=4))
        template = draw(st.sampled_from(["cvv {}", "CVV: {}", "the security code is {}", "cvc2 {}", "card verification code {}"]))
    elif kind == "expiry":
        value = f"{draw(st.integers(1, 12)):02d}/{draw(st.sampled_from(['27', '28', '2029', '30']))}"
        template = draw(st.sampled_from(["exp {}", "expires {}", "expiry date: {}", "valid thru {}", "Expiration {}"]))
    elif kind == "password":
        value = draw(st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&*", min_size=5, max_size=20)
                     .filter(lambda v: re.search(r"\d", v) is not None))
        template = draw(st.sampled_from(["password: {}", "my password is {}", "Password={}", "pwd: {} thanks"]))
    else:
        value = draw(digits)
        template = draw(st.sampled_from(["the code is {}", "OTP {}", "one-time code: {}", "verification code {}", "passcode {}"]))
    return template.format(value), value


@SETTINGS
@given(secrets())
def test_no_named_secret_survives(case):
    text, value = case
    out = redact(text).text
    assert value not in out, (text, out)


def test_the_issue_examples():
    for text, secret in [("my pin is 4821", "4821"), ("cvv 123", "123"), ("password: hunter2", "hunter2"),
                         ("the code is 552199", "552199"), ("my pin is four eight two one", "four eight"),
                         ("SSN 123.45.6789", "6789"), ("IBAN DE89370400440532013000", "3704")]:
        assert secret not in redact(text).text, text


def test_ordinary_words_after_password_stay():
    assert redact("my password is not working").text == "my password is not working"
    assert redact("what is the zip code 94107 area").text == "what is the zip code 94107 area"
