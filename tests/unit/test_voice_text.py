"""Speech text normalisation and sentence streaming."""

import pytest

pytest.importorskip("num2words")

from voice.normalize import normalize_for_speech as say  # noqa: E402
from voice.sentences import SentenceChunker, split_sentences, unspoken_remainder  # noqa: E402


@pytest.mark.parametrize("text,spoken", [
    # self-service read-backs: account and card endings digit by digit, amounts in words
    ("Move $1,200.50 from checking …4821?", "Move one thousand two hundred dollars and fifty cents from checking ending four eight two one?"),
    ("Your debit card ending 1234 is frozen.", "Your debit card ending one two three four is frozen."),
    ("The fee is $10, waived with a $500 balance.", "The fee is ten dollars, waived with a five hundred dollars balance."),
    ("$1,250.50", "one thousand two hundred fifty dollars and fifty cents"),
    ("$0.75", "seventy-five cents"),
    ("$1", "one dollar"),
    ("$2.5 million", "two point five million dollars"),
    ("Our routing number is 000111222.", "Our routing number is zero zero zero, one one one, two two two."),
    ("4111 1111 1111 1111", "four one one one, one one one one, one one one one, one one one one"),
    ("card ending in 1234", "card ending in one two three four"),
    ("Call 1-800-555-0199", "Call one, eight zero zero, five five five, zero one nine nine"),
    ("Cut-off is 4:00 p.m. ET.", "Cut-off is four p.m. Eastern Time."),
    ("9:30 am to 5 PM", "nine thirty a.m. to five p.m."),
    ("at 10:05", "at ten oh five"),
    ("Due 03/15/2025", "Due March fifteenth, twenty twenty-five"),
    ("since 2025-04-01", "since April first, twenty twenty-five"),
    ("on Jan. 5, 2026", "on January fifth, twenty twenty-six"),
    ("0.50% APY and 19.99% APR", "zero point five zero percent A P Y and nineteen point nine nine percent A P R"),
    ("Use any ATM; never share your PIN.", "Use any A T M; never share your pin."),
    ("within 60 days, the 3rd time", "within sixty days, the third time"),
    ("FDIC insures $250,000.", "F D I C insures two hundred fifty thousand dollars."),
    ("Open Mon-Fri, 24/7 online.", "Open Monday to Friday, twenty-four seven online."),
    ("**Note:** fees apply", "Note: fees apply"),
    # layout: bullets (also after blank lines) dropped, line breaks end sentences, runs of space are one
    ("Fees:\n\n  - wire\n* check", "Fees:. wire. check"),
    ("\n - first\nsecond", "first. second"),
    ("a  \t b\tc", "a b\tc"),
    ("rates 3%,4% and 1,5 %", "rates three percent,four percent and fifteen percent"),
])
def test_normalize_for_speech(text, spoken):
    assert say(text) == spoken


def test_control_characters_are_never_spoken():
    assert say("wire\x00 fee\x07") == "wire fee"


def test_no_digit_survives_normalisation():
    text = "Wire $25 by 4:00 p.m. on 12/31/2025 to 000111222; 3 tries, 2.5% back, card 4111-1111-1111-1111."
    assert not any(c.isdigit() for c in say(text))


def test_sentence_chunker_streams_sentences_and_keeps_abbreviations_together():
    c, out = SentenceChunker(), []
    for ch in "The cut-off is 4:00 p.m. ET. The fee is $25. Anything else? I can help":
        out += c.feed(ch)
    assert out == ["The cut-off is 4:00 p.m. ET.", "The fee is $25.", "Anything else?"]
    assert c.flush() == "I can help"


def test_short_fragments_stay_with_the_next_sentence():
    assert split_sentences("Hi. The fee is $10 a month.") == ["Hi. The fee is $10 a month."]


def test_unspoken_remainder_continues_a_streamed_prefix():
    final = "The fee is $10. It is waived with a $500 balance. Anything else?"
    assert unspoken_remainder(final, ["The fee is $10."]) == ["It is waived with a $500 balance.", "Anything else?"]


def test_unspoken_remainder_after_the_guard_replaced_the_answer():
    final = "Here is what our Everyday Checking information says: the monthly fee is $10."
    assert " ".join(unspoken_remainder(final, ["Everyday Checking is our basic account."])) == final


def test_whisper_loop_cut_keeps_one_copy():
    from voice.asr import _cut_loop

    sentence = [5, 6, 7, 8, 9, 10]
    assert _cut_loop(sentence * 4 + sentence[:3]) == sentence
    assert _cut_loop([1, 2, 3, 1, 2, 3, 4, 5]) == [1, 2, 3, 1, 2, 3, 4, 5]  # a short repeat is speech
    assert _cut_loop(sentence) == sentence


def test_long_sentences_are_spoken_in_clauses_short_ones_whole():
    from voice.sentences import speakable_pieces

    long = "Report it right away in the app (Cards, then Report lost), or call us at 1-800-555-0199, and we will send a new card."
    pieces = speakable_pieces(long, max_chars=60)
    assert len(pieces) > 1 and " ".join(pieces) == long and all(len(p) >= 20 for p in pieces)
    assert speakable_pieces("The fee is $10.", max_chars=60) == ["The fee is $10."]


def test_a_short_last_clause_joins_the_one_before_it_and_none_is_lost():
    from voice.sentences import speakable_pieces

    s = ("The first clause is quite long enough here, the second clause is also quite long enough here, "
         "and a third clause that is very long as well (ok)")
    pieces = speakable_pieces(s)
    assert pieces[-1].endswith("as well (ok)") and " ".join(pieces) == s
