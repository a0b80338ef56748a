"""Issue 29 routes through POST /v1/intent and POST /v1/chat with the committed artefact and real models:
indirect and combined requests for a person, advice, products not offered, keyboard mashing,
urgent intents offered a person (not handed over), low confidence clarified."""

import pytest

from assistant.llm import prompts
from assistant.nlu.classifier import DEFAULT_ARTIFACT

pytestmark = pytest.mark.skipif(not (DEFAULT_ARTIFACT / "chars.json").exists(),
                                reason="intent artefact without the issue-29 parts (python -m finetune.intent.train)")

PERSON = [
    "Thanks, but these fees still confuse me. Can I speak with somebody?",
    "I'm not comfortable giving my details to a machine",
    "can I talk to someone who actually works there",
]
NOT_PERSON = ["I'd like to move money to my landlord", "read me what it says"]


def intent(client, text, **extra):
    r = client.post("/v1/intent", json={"text": text, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def chat(client, text, cid=None, headers=None):
    body = {"message": text} | ({"conversation_id": cid} if cid else {})
    r = client.post("/v1/chat", json=body, headers=headers or {})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("text", PERSON)
def test_indirect_and_combined_requests_for_a_person_hand_over(client, text):
    body = intent(client, text)
    assert body["handoff_recommended"] and body["reason"] == "explicit request for a human", body
    reply = chat(client, text)
    assert reply["path"] == "handoff" and reply["handoff"]["active"], reply


@pytest.mark.parametrize("text", NOT_PERSON)
def test_ordinary_messages_about_people_or_reading_do_not_hand_over(client, text):
    body = intent(client, text)
    assert not body["handoff_recommended"] and not body["human_request"], body
    assert chat(client, text)["path"] != "handoff"


def test_urgent_intent_offers_a_person_without_handing_over(client):
    body = intent(client, "I think someone stole my card, what do I do?")
    assert body["intent"] in ("lost_or_stolen_card", "compromised_card")
    assert body["offer_agent"] and not body["handoff_recommended"] and body["reason"].startswith("urgent: ")
    reply = chat(client, "I think someone stole my card, what do I do?")
    assert reply["offer_agent"] and reply["path"] != "handoff" and reply["suggestions"][0] == prompts.TALK_TO_AGENT
    assert reply["handoff"]["active"] is False


def test_keyboard_mashing_asks_to_rephrase(client):
    body = intent(client, "sdfkj lkjwer", failed_turns=3)
    assert body["route"] == "rephrase" and not body["handoff_recommended"], body
    reply = chat(client, "sdfkj lkjwer")
    assert reply["path"] == "rephrase" and reply["reply"] == prompts.REPHRASE


def test_investment_advice_is_declined_politely(client):
    body = intent(client, "Should I move my savings into crypto?")
    assert body["route"] == "advice" and not body["handoff_recommended"]
    reply = chat(client, "Should I move my savings into crypto?")
    assert reply["path"] == "declined" and reply["reply"] == prompts.ADVICE["investment"]


def test_a_product_we_do_not_offer_is_named_with_the_nearest_real_one(client):
    body = intent(client, "what's the rate on your gold storage account")
    assert body["route"] == "not_offered" and body["nearest_product"], body
    reply = chat(client, "what's the rate on your gold storage account")
    assert reply["path"] == "declined" and "don't offer a gold storage account" in reply["reply"]
    assert body["nearest_product"] in reply["reply"]


@pytest.mark.parametrize("text", ["how do I improve my credit score", "what's the routing number of my bank",
                                  "what is the exchange rate for euros", "how do I pay my electricity bill"])
def test_banking_adjacent_questions_stay_in_scope(client, text):
    """Kept by the scope head or, where it doubts, by a relevant KB passage: never refused."""
    body = intent(client, text)
    assert body["route"] in ("", "clarify") and not body["handoff_recommended"], body
    assert chat(client, text)["path"] not in ("refused", "declined", "handoff")


@pytest.mark.parametrize("text", ["book me a table for four tonight", "message my brother that I'm late"])
def test_assistant_requests_of_other_domains_are_refused(client, text):
    body = intent(client, text)
    assert not body["in_scope"] and not body["handoff_recommended"], body
    assert chat(client, text)["path"] == "refused"


def test_low_confidence_is_a_clarifying_question_not_a_handoff(client):
    first = chat(client, "the thing with the stuff from before")
    assert first["path"] in ("clarify", "refused", "no_answer") and first["path"] != "handoff"
    second = chat(client, "the other thing with the stuff", first["conversation_id"],
                  headers={"authorization": f"Bearer {first['session_token']}"})
    assert second["path"] != "handoff" and not (second["handoff"] or {}).get("active")
