"""Sentiment and frustration rules (assistant/nlu/sentiment.py)."""

import pytest

from assistant.nlu.sentiment import LexiconSentiment

S = LexiconSentiment()


@pytest.mark.parametrize("text", [
    "thanks, that was really helpful", "perfect, thank you so much", "great service, I appreciate it",
])
def test_positive(text):
    r = S.analyze(text)
    assert r.label == "positive" and r.score > 0 and r.frustration == 0


@pytest.mark.parametrize("text", [
    "what is the exchange rate for euros", "my card was stolen yesterday", "I lost my phone",
    "how do I top up by bank transfer", "can I speak to a human",
])
def test_banking_trouble_is_not_negative_tone(text):
    # Reporting a stolen card is not anger at the bank: tone decides, not topic.
    r = S.analyze(text)
    assert r.label == "neutral" and r.frustration < 0.2


@pytest.mark.parametrize("text", [
    "your service is terrible", "I am very disappointed", "I'm not happy with this at all",
    "this app is useless", "worst bank ever",
])
def test_negative(text):
    assert S.analyze(text).label == "negative"


def test_negation_flips_praise_and_softens_criticism():
    assert S.analyze("not helpful at all").label == "negative"
    assert S.analyze("not bad").label != "negative"


def test_profanity_anger_and_shouting_raise_frustration():
    calm = S.analyze("the transfer has not arrived")
    angry = S.analyze("this is fucking ridiculous")
    shouting = S.analyze("WHY HAS MY TRANSFER NOT ARRIVED YET!!")
    assert angry.frustration >= 0.7 and angry.label == "negative"
    assert shouting.frustration > calm.frustration
    assert calm.frustration < 0.3


def test_exasperation_phrases():
    for text in ("this conversation is going nowhere", "I've already told you three times",
                 "how many times do I have to ask", "what a waste of time"):
        assert S.analyze(text).frustration >= 0.3, text


def test_failed_turns_raise_frustration_monotonically_and_cap_at_one():
    text = "still not received my card"
    scores = [S.analyze(text, failed_turns=n).frustration for n in range(6)]
    assert scores == sorted(scores) and scores[0] < 0.3
    assert scores[3] >= 0.7  # three failures in a row reach the usual handoff line
    assert scores[-1] == 1.0
    assert S.analyze("ok", failed_turns=-3).frustration == 0.0


def test_scores_are_bounded():
    r = S.analyze("terrible awful useless worst hate " * 20 + "!!!!")
    assert -1.0 <= r.score <= 1.0 and 0.0 <= r.frustration <= 1.0
    assert S.analyze("").label == "neutral"
