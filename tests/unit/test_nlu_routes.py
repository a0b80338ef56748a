"""Issue 29 API semantics with fakes for the models: advice, products not offered, keyboard mashing,
urgent intents offered a person (not handed over), low confidence clarified (never handed over)."""

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from assistant.config import AnsweringSettings
from assistant.core.events import UserTurn
from assistant.core.pipeline import DialoguePipeline, complete
from assistant.handoff.policy import HandoffPolicy
from assistant.llm import prompts
from assistant.nlu.gibberish import CharModel
from assistant.nlu.routes import RouteRules
from assistant.storage.db import make_engine, migrate, session_factory
from assistant.storage.repository import ConversationRepository
from tests.fakes import CHECKING, ROUTING_FAQ, WIRES, FakeKnowledge, FakeNlu, ScriptedGenerator, Signals

KB_DOCS = Path(__file__).resolve().parent.parent.parent / "knowledge_base" / "docs"
KNOWN = frozenset(["savings", "checking", "account", "card", "rate", "premier", "everyday", "virtual", "interest", "high", "yield", "cd", "money", "market"])


@pytest.mark.parametrize("text,kind", [
    ("Should I move my savings into crypto?", "investment"),
    ("is bitcoin a good investment right now", "investment"),
    ("where should I invest 10k", "investment"),
    ("how can I pay less tax on my interest", "tax"),
    ("can I deduct my mortgage interest", "tax"),
    ("should I sue my landlord", "legal"),
    ("do I need a lawyer for my divorce", "legal"),
])
def test_advice_is_recognised(text, kind):
    assert RouteRules(KNOWN).advice(text) == kind


@pytest.mark.parametrize("text", [
    "what is the savings rate", "how do I open a CD", "when do I get my tax form", "I want to invest in a CD, what's the rate",
    "can I move money from savings to checking", "what is the interest on my savings account",
])
def test_banking_questions_are_not_advice(text):
    assert RouteRules(KNOWN).advice(text) is None
    assert RouteRules(KNOWN).not_offered(text) is None


@pytest.mark.parametrize("text,product", [
    ("what's the rate on your gold storage account", "gold storage account"),
    ("do you offer pet insurance?", "pet insurance"),
    ("can I open a bitcoin wallet with you", "bitcoin wallet"),
])
def test_products_not_offered(text, product):
    assert RouteRules(KNOWN).not_offered(text) == product


def test_products_we_have_are_offered():
    rules = RouteRules(KNOWN)
    for text in ("what's the rate on your high yield savings account", "can I get a virtual card",
                 "what is the fee on your premier checking account", "the rate on your money market account"):
        assert rules.not_offered(text) is None, text


def test_keyboard_mashing_is_unreadable_and_real_unknown_words_are_not():
    from finetune.intent.chars import choose_threshold, fit_chars, mashing

    english = [p.read_text() for p in KB_DOCS.rglob("*.md")]  # the shipped knowledge base: plain English
    raw = fit_chars(english)
    names = ["london", "restaurant", "tomorrow", "sister", "hola", "smith", "jazz", "pizza", "netflix", "spotify"]
    raw["threshold"] = choose_threshold(CharModel.from_json(raw), names, flag_share=0.0)
    model = CharModel.from_json(raw)
    known = {"card", "money"}
    assert model.is_gibberish("sdfkj lkjwer", known) and model.is_gibberish("qwrtz", known)
    assert sum(model.is_gibberish(t, known) for t in mashing(50, seed=1)) >= 40
    assert not model.is_gibberish("my card sdfkj", known)  # a known word: read on
    assert not model.is_gibberish("250", known) and not model.is_gibberish("?", known)


@dataclass(frozen=True)
class Routed(Signals):
    route: str = ""
    reason: str = ""
    nearest_product: str = ""


class RoutedNlu(FakeNlu):
    def classify(self, text, *, failed_turns=0, embedding=None):
        base = super().classify(text, failed_turns=failed_turns, embedding=embedding)
        fields = {k: getattr(base, k) for k in Signals.__dataclass_fields__}
        t = text.lower()
        if "sdfkj" in t:
            return Routed(**{**fields, "frustration": 0.9}, route="rephrase", reason="unreadable: please rephrase")
        if "crypto" in t:
            return Routed(**fields, route="advice", reason="advice: investment")
        if "gold storage" in t:
            return Routed(**fields, route="not_offered", reason="not offered: gold storage account",
                          nearest_product="High-Yield Savings account")
        if "unsure stolen" in t:
            return replace(base, confidence=0.3)
        return base


@pytest.fixture
def pipeline(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    migrate(engine)
    return DialoguePipeline(
        knowledge=FakeKnowledge([CHECKING, WIRES], [ROUTING_FAQ]), generator=ScriptedGenerator("The fee is $10."),
        conversations=ConversationRepository(session_factory(engine)), config=AnsweringSettings(quote_figure_questions=False),
        nlu=RoutedNlu(), policy=HandoffPolicy.load(),
    )


def say(p, text, cid=None):
    return asyncio.run(complete(p, UserTurn(text, "web", cid)))


def test_mashing_asks_to_rephrase_even_when_frustrated(pipeline):
    reply = say(pipeline, "sdfkj lkjwer")
    assert reply.path == "rephrase" and reply.text == prompts.REPHRASE and not reply.handoff.active


def test_advice_is_declined_with_what_the_bank_can_do(pipeline):
    reply = say(pipeline, "Should I move my savings into crypto?")
    assert reply.path == "declined" and reply.text == prompts.ADVICE["investment"] and "savings" in reply.text


def test_product_not_offered_names_the_nearest_real_one(pipeline):
    reply = say(pipeline, "what's the rate on your gold storage account")
    assert reply.path == "declined" and "We don't offer a gold storage account" in reply.text
    assert "High-Yield Savings account" in reply.text


def test_urgent_intent_offers_a_person_only_when_confident():
    policy = HandoffPolicy.load()
    sure = policy.before_retrieval(Signals(intent="lost_or_stolen_card", confidence=0.9, top=(("lost_or_stolen_card", 0.9),)))
    unsure = policy.before_retrieval(Signals(intent="lost_or_stolen_card", confidence=0.5,
                                             top=(("lost_or_stolen_card", 0.5), ("card_arrival", 0.3))))
    assert sure.action == "answer" and sure.offer_agent and sure.reason == "urgent: lost_or_stolen_card"
    assert unsure.action == "answer" and not unsure.offer_agent
    split = Signals(intent="compromised_card", confidence=0.45, top=(("compromised_card", 0.45), ("lost_or_stolen_card", 0.4)))
    assert policy.before_retrieval(split).offer_agent  # surely urgent, unsure which: still offered


def test_urgent_reply_carries_offer_agent_not_a_handoff(pipeline):
    reply = say(pipeline, "my card was stolen, what is the wire fee")
    assert reply.offer_agent and not reply.handoff.active and reply.suggestions[0] == prompts.TALK_TO_AGENT


def test_low_confidence_never_hands_off_and_offers_a_person_after_repeats(pipeline):
    first = say(pipeline, "mumble mumble")
    assert first.path == "clarify" and first.suggestions[0] == "Card arrival" and not first.offer_agent
    second = say(pipeline, "mumble again", first.conversation_id)
    assert second.path == "clarify" and not second.handoff.active
    assert second.offer_agent and second.suggestions[0] == prompts.TALK_TO_AGENT and "Card arrival" in second.suggestions
