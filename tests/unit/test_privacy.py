import logging

import pytest

from assistant.privacy import RedactingFilter, iban_ok, luhn_ok, redact


@pytest.mark.parametrize("text", [
    "my card is 4111111111111111",
    "card 4111 1111 1111 1111 please",
    "card 4111-1111-1111-1111 please",
    "amex 3782 822463 10005",
    "visa 4012888888881881.",
])
def test_card_numbers_masked(text):
    out = redact(text)
    assert "[CARD]" in out.text
    assert "1111" not in out.text and "8888" not in out.text and "0005" not in out.text


def test_luhn_and_iban_checks():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and not iban_ok("GB82 WEST 1234 5698 7654 33")


@pytest.mark.parametrize("text,label", [
    ("my ssn is 123-45-6789", "SSN"),
    ("SSN: 123456789", "SSN"),
    ("call me on (415) 555-2671", "PHONE"),
    ("or +44 20 7946 0958", "PHONE"),
    ("write to jane.doe@example.com", "EMAIL"),
    ("IBAN DE89 3704 0044 0532 0130 00", "IBAN"),
    ("account number 12345678", "ACCOUNT"),
    ("acct # 9876-5432-10", "ACCOUNT"),
    ("date of birth 04/12/1985", "DOB"),
    ("I was born on March 3, 1990", "DOB"),
])
def test_identifiers_masked(text, label):
    out = redact(text)
    assert f"[{label}]" in out.text, out.text
    assert out.found[label] >= 1


def test_ordinary_figures_untouched():
    text = "Is the fee $2,500 or 4.5% and do I have 60 days until 4:00 p.m. on 2025-07-01?"
    assert redact(text).text == text


def test_log_filter_masks_any_record(caplog):
    logger = logging.getLogger("test.redaction")
    handler = logging.Handler()
    seen = []
    handler.emit = lambda record: seen.append(record.getMessage())
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    try:
        logger.warning("customer said %s", "card 4111 1111 1111 1111 and me@x.io")
    finally:
        logger.removeHandler(handler)
    assert seen == ["customer said card [CARD] and [EMAIL]"]
