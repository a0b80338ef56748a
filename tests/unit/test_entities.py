"""Normalised entities for self-service flows: one table per parser, bad input, adversarial input."""

import time
from datetime import date
from decimal import Decimal

import pytest

from assistant.dialogue.entities import (
    PATTERNS,
    AccountRef,
    Money,
    PayeeMatch,
    is_cancel,
    match_payee,
    parse_account,
    parse_accounts_from_to,
    parse_amount,
    parse_card_last4,
    parse_date,
    parse_digits,
    parse_yes_no,
)

TODAY = date(2026, 12, 7)  # a Monday
JUNK = "#@!qz " * 700  # 4,200 characters that hold no entity
ADVERSARIAL = ["1," * 2000, " " * 4000 + "x", "9" * 4000, "ending " * 600]
BAD_INPUTS = ["", "a lot", "   ", JUNK, "\x00\ufffd\u202e", "\ud800 lone surrogate \udfff", "🙂" * 50, *ADVERSARIAL]


def usd(amount: str, currency: str = "USD") -> Money:
    return Money(Decimal(amount), currency)


@pytest.mark.parametrize("text,expected", [
    ("1.2k", usd("1200.00")),
    ("$1,200.50", usd("1200.50")),
    ("twelve hundred dollars", usd("1200.00")),
    ("200 bucks", usd("200.00")),
    ("make it 250", usd("250.00")),
    ("two fifty dollars", usd("250.00")),
    ("twelve ninety nine bucks", usd("1299.00")),
    ("two fifty", None),  # 2.50 or 250: the caller asks again
    ("£20", usd("20.00", "GBP")),
    ("20 euros", usd("20.00", "EUR")),
    ("50p", usd("0.50", "GBP")),
    ("0", usd("0.00")),
    ("Zero.", usd("0.00")),
    ("-50", usd("-50.00")),
    ("minus 50 dollars", usd("-50.00")),
    ("-$50", usd("-50.00")),
    ("ten", usd("10.00")),
    ("one dollar", usd("1.00")),
    ("50 cents", usd("0.50")),
    ("125 dollars and 50 cents", usd("125.50")),
    ("one point five k", usd("1500.00")),
    ("a grand", usd("1000.00")),
    ("transfer $1,200 from checking to my landlord", usd("1200.00")),
    ("send 200 from the one ending in 4821", usd("200.00")),
    ("the one ending 4821, two hundred", usd("200.00")),
    ("pay my card ending 1234 on the 3rd", None),
    ("on the 3rd send 50", usd("50.00")),
    ("march 5", None),
    ("send 20 to maria on 11/30", usd("20.00")),
    ("at 5pm send 20", usd("20.00")),
    ("at two thirty", None),
    ("3 days ago", None),
    ("in 2025 I sent 300", usd("300.00")),
    ("send 2000 to savings", usd("2000.00")),
    ("yes but make it three hundred", usd("300.00")),
    ("1,2000", None),
    ("$12.345", usd("12.35")),
    ("a couple hundred", usd("200.00")),
    ("half a grand", usd("500.00")),
    ("a few hundred dollars", None),
])
def test_parse_amount(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text", BAD_INPUTS + ["send money to maria", "the one ending 4821", "last friday"])
def test_parse_amount_finds_none(text):
    assert parse_amount(text) is None


def test_zero_and_negative_amounts_are_returned_for_the_caller_to_reject():
    assert parse_amount("0").amount == 0
    assert parse_amount("-50").amount < 0


@pytest.mark.parametrize("money,text,spoken,cents", [
    (usd("1200.50"), "$1,200.50", "1,200 dollars and 50 cents", 120050),
    (usd("1.00"), "$1.00", "1 dollar", 100),
    (usd("0.05"), "$0.05", "5 cents", 5),
    (usd("0.00"), "$0.00", "0 dollars", 0),
    (usd("-50.00"), "-$50.00", "minus 50 dollars", -5000),
    (usd("20.01", "GBP"), "£20.01", "20 pounds and 1 penny", 2001),
    (usd("3.00", "CHF"), "3.00 CHF", "3 CHF", 300),
])
def test_money_text_and_cents(money, text, spoken, cents):
    assert (str(money), money.spoken(), money.cents) == (text, spoken, cents)


@pytest.mark.parametrize("text,expected", [
    ("last Friday", date(2026, 12, 4)),
    ("I paid it last friday", date(2026, 12, 4)),
    ("on the 3rd", date(2026, 12, 3)),
    ("send it on the third", date(2026, 12, 3)),
    ("the 20th", date(2026, 11, 20)),  # most recent past 20th
    ("the 31st", date(2026, 10, 31)),  # November has no 31st
    ("the upcoming 3rd", date(2027, 1, 3)),
    ("on the 3rd next month", date(2027, 1, 3)),
    ("the 3rd of last month", date(2026, 11, 3)),
    ("yesterday", date(2026, 12, 6)),
    ("the day before yesterday", date(2026, 12, 5)),
    ("3 days ago", date(2026, 12, 4)),
    ("three days ago", date(2026, 12, 4)),
    ("March 5", date(2026, 3, 5)),
    ("the 5th of march", date(2026, 3, 5)),
    ("december 25", date(2025, 12, 25)),
    ("dec 25th, 2024", date(2024, 12, 25)),
    ("2026-11-30", date(2026, 11, 30)),
    ("11/30", date(2026, 11, 30)),
    ("12/25", date(2025, 12, 25)),
    ("11/30/2025", date(2025, 11, 30)),
    ("today", TODAY),
    ("next friday", date(2026, 12, 11)),
    ("the upcoming friday", date(2026, 12, 11)),
    ("this past friday", date(2026, 12, 4)),
    ("on the first", date(2026, 12, 1)),
    ("the second of december", date(2026, 12, 2)),
    ("december first", date(2026, 12, 1)),
])
def test_parse_date(text, expected):
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text", BAD_INPUTS + [
    "may I pay 200", "a second ago", "2026-02-30", "13/45", "on the 99th", "9999 days ago", "send 200 to maria", "in march",
])
def test_parse_date_finds_none(text):
    assert parse_date(text, today=TODAY) is None


@pytest.mark.parametrize("text,expected", [
    ("my savings", AccountRef("savings", None)),
    ("from checking", AccountRef("checking", None)),
    ("primary checking", AccountRef("checking", None)),
    ("savings account", AccountRef("savings", None)),
    ("my credit card", AccountRef("credit", None)),
    ("the one ending 4821", AccountRef(None, "4821")),
    ("account ending in 4821", AccountRef(None, "4821")),
    ("acct ...4821", AccountRef(None, "4821")),
    ("acct \u20264821", AccountRef(None, "4821")),
    ("account x4821", AccountRef(None, "4821")),
    ("account number 4821", AccountRef(None, "4821")),
    ("the one ending in four eight two one", AccountRef(None, "4821")),
    ("last four digits are 4821", AccountRef(None, "4821")),
    ("checking ending 9876", AccountRef("checking", "9876")),
    ("credit card ending 1234", AccountRef("credit", "1234")),
    ("from checking to savings", AccountRef("checking", None)),  # the first one mentioned
    ("send 200 to maria", None),
    ("I got credit for it", None),
    ("ending 48215", None),  # five digits are no last four
])
def test_parse_account(text, expected):
    assert parse_account(text) == expected


@pytest.mark.parametrize("text", BAD_INPUTS)
def test_parse_account_finds_none(text):
    assert parse_account(text) is None


CHECKING, SAVINGS = AccountRef("checking", None), AccountRef("savings", None)


@pytest.mark.parametrize("text,expected", [
    ("from checking to savings", (CHECKING, SAVINGS)),
    ("move 200 to savings from my checking", (CHECKING, SAVINGS)),
    ("into my savings", (None, SAVINGS)),
    ("savings to checking", (SAVINGS, CHECKING)),
    ("transfer my savings to checking", (SAVINGS, CHECKING)),
    ("move it out of savings into checking", (SAVINGS, CHECKING)),
    ("send it to checking and use my savings", (SAVINGS, CHECKING)),
    ("I want to move money from savings", (SAVINGS, None)),
    ("I want to transfer to savings", (None, SAVINGS)),
    ("from the one ending 4821 to the one ending 1234", (AccountRef(None, "4821"), AccountRef(None, "1234"))),
    ("transfer $1,200 from checking to my landlord", (CHECKING, None)),
    ("send 50 to maria", (None, None)),
    *((bad, (None, None)) for bad in BAD_INPUTS),
])
def test_parse_accounts_from_to(text, expected):
    assert parse_accounts_from_to(text) == expected


PAYEES = {"p1": "Maria Lopez (sister)", "p2": "Mario Rossi", "p3": "Carlos Lopez", "p4": "John Smith (landlord)",
          "p5": "José García (mom)"}


@pytest.mark.parametrize("text,payees,expected", [
    ("my sister", PAYEES, PayeeMatch("one", ("p1",))),
    ("send 200 dollars to my sister", PAYEES, PayeeMatch("one", ("p1",))),
    ("maria", PAYEES, PayeeMatch("one", ("p1",))),
    ("mario", PAYEES, PayeeMatch("one", ("p2",))),
    ("mario", {"p1": "Maria Lopez", "p2": "Mario Rossi"}, PayeeMatch("one", ("p2",))),
    ("maria", {"p1": "Maria Lopez", "p2": "Mario Rossi"}, PayeeMatch("one", ("p1",))),
    ("lopez", {"p1": "Maria Lopez", "p2": "Carlos Lopez"}, PayeeMatch("ambiguous", ("p1", "p2"))),
    ("lopez", PAYEES, PayeeMatch("ambiguous", ("p1", "p3"))),
    ("pay maria lopez 50", PAYEES, PayeeMatch("one", ("p1",))),
    ("my landlord", PAYEES, PayeeMatch("one", ("p4",))),
    ("pay the landlord for rent", PAYEES, PayeeMatch("one", ("p4",))),
    ("send money to mom", PAYEES, PayeeMatch("one", ("p5",))),
    ("jose", PAYEES, PayeeMatch("one", ("p5",))),
    ("mraia", PAYEES, PayeeMatch("one", ("p1",))),
    ("send 200 to maria for rent", PAYEES, PayeeMatch("one", ("p1",))),
    ("send 200 to maria for rent", {"p1": "Maria Lopez", "p2": "Brent Wu"}, PayeeMatch("one", ("p1",))),
    ("send 50 to will", {"p1": "Will Smith", "p2": "Maria Lopez"}, PayeeMatch("one", ("p1",))),
    ("my sister maria", PAYEES, PayeeMatch("one", ("p1",))),
    ("bob", PAYEES, PayeeMatch("none", ())),
    ("jon", PAYEES, PayeeMatch("none", ())),  # short names must be equal
    ("my brother", PAYEES, PayeeMatch("none", ())),
    ("maria", {}, PayeeMatch("none", ())),
    *((bad, PAYEES, PayeeMatch("none", ())) for bad in BAD_INPUTS),
])
def test_match_payee(text, payees, expected):
    assert match_payee(text, payees) == expected


@pytest.mark.parametrize("text,expected", [
    *((t, True) for t in ["yes", "Yeah.", "yep", "sure", "correct", "confirm", "do it", "go ahead", "1", "ok",
                          "yes but make it 300", "sure, why not", "that's right", "no problem, go ahead", "one",
                          "Exactly.", "That works for me", "sounds good", "great"]),
    *((t, False) for t in ["no", "nope", "cancel that", "don't", "2", "no, make it 250", "that's not right",
                           "don't do it", "incorrect", "absolutely not", "two", "I'm good, thanks",
                           "No, I only need 1. I don't know where you got 2 from."]),
    *((t, None) for t in ["not sure", "maybe", "I don't know", "what", "yesterday", "3", *BAD_INPUTS]),
])
def test_parse_yes_no(text, expected):
    assert parse_yes_no(text) is expected


@pytest.mark.parametrize("text,expected", [
    *((t, True) for t in ["forget it", "cancel", "never mind", "stop", "nevermind", "abort", "I changed my mind",
                          "Cancel that.", "cancel it please", "please cancel", "stop!", "forget about it",
                          "scratch that", "I want to cancel this", "ok forget it, what's my balance?"]),
    *((t, False) for t in ["cancel my card", "cancel the transfer I made yesterday", "stop payment on a check",
                           "don't cancel", "I do not want to stop", "forget my password", "yes", "no",
                           "the card won't stop declining", *BAD_INPUTS]),
])
def test_is_cancel(text, expected):
    assert is_cancel(text) is expected


@pytest.mark.parametrize("text,length,expected", [
    ("552199", 6, "552199"),
    ("5 5 2 1 9 9", 6, "552199"),
    ("five five two one nine nine", 6, "552199"),
    ("55-21-99", 6, "552199"),
    ("my code is 552 199", 6, "552199"),
    ("fifty five twenty one ninety nine", 6, "552199"),
    ("five oh five one two three", 6, "505123"),
    ("double five two one double nine", 6, "552199"),
    ("code 552199, again 552199", 6, "552199"),
    ("5521", (4, 6), "5521"),
    ("my pin is 1234", 4, "1234"),
    ("5521", 6, None),
    ("5521990", 6, None),
    ("123456 and 654321", 6, None),  # two different codes: ask again
    ("552199", 0, None),
    ("552199", (6, 4), None),
    *((bad, 6, None) for bad in BAD_INPUTS),
])
def test_parse_digits(text, length, expected):
    assert parse_digits(text, length=length) == expected


@pytest.mark.parametrize("text,expected", [
    ("card ending 1234", "1234"),
    ("the one ending in 1234", "1234"),
    ("my visa ends with 1234", "1234"),
    ("****1234", "1234"),
    ("card 1234", "1234"),
    ("card number ending 1234", "1234"),
    ("last four are one two three four", "1234"),
    ("the last 4 digits of my card are 1234", "1234"),
    ("ending in 12 34", "1234"),
    ("my card", None),
    ("ending 12", None),
    ("ending 12345", None),
    ("send 1234 dollars", None),
    ("on the 3rd", None),
    *((bad, None) for bad in BAD_INPUTS),
])
def test_parse_card_last4(text, expected):
    assert parse_card_last4(text) == expected


PARSERS = [
    parse_amount, lambda t: parse_date(t, today=TODAY), parse_account, parse_accounts_from_to,
    lambda t: match_payee(t, PAYEES), parse_yes_no, is_cancel, lambda t: parse_digits(t, length=(4, 8)),
    parse_card_last4,
]


@pytest.mark.parametrize("text", ADVERSARIAL + [JUNK])
@pytest.mark.parametrize("parser", PARSERS)
def test_each_parser_is_fast_on_adversarial_input(parser, text):
    parse_date("yesterday", today=TODAY)  # dateparser loads its language data on the first call
    started = time.perf_counter()
    parser(text)
    assert time.perf_counter() - started < 0.1


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_every_pattern_is_fast_on_adversarial_input(text):
    assert len(PATTERNS) > 30
    for pattern in PATTERNS:
        started = time.perf_counter()
        pattern.search(text)
        list(pattern.finditer(text))
        assert time.perf_counter() - started < 0.1, pattern.pattern


def test_no_parser_raises_on_arbitrary_text():
    hypothesis = pytest.importorskip("hypothesis")
    strategies = pytest.importorskip("hypothesis.strategies")
    alphabet = strategies.sampled_from([*"0123456789$£€.,-/:#*x… ", "ending ", "the ", "3rd", "k", "one ", "fifty ",
                                        "dollars", "from ", "to ", "savings", "yes", "cancel ", "may ", "ago", "é"])

    @hypothesis.settings(max_examples=300, deadline=None, derandomize=True)
    @hypothesis.given(strategies.lists(alphabet, max_size=40).map("".join))
    def check(text):
        for parser in PARSERS:
            parser(text)

    check()
