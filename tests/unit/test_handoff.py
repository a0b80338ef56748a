"""Handoff policy in the pipeline, tickets and claims, with fakes for the models."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from assistant.bus import InMemoryBus, conversation_topic
from assistant.config import AnsweringSettings
from assistant.core.events import UserTurn
from assistant.core.pipeline import DialoguePipeline, complete
from assistant.handoff.policy import HandoffPolicy
from assistant.handoff.service import HandoffService
from assistant.storage.agents import AgentExists, AgentRepository
from assistant.storage.db import make_engine, migrate, session_factory
from assistant.storage.repository import ConversationRepository
from assistant.storage.tickets import TicketConflict, TicketNotFound, TicketRepository
from tests.fakes import CHECKING, ROUTING_FAQ, WIRES, FakeKnowledge, FakeNlu, ScriptedGenerator


@pytest.fixture
def world(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    conv, tickets, agents = ConversationRepository(sessions), TicketRepository(sessions), AgentRepository(sessions)
    bus = InMemoryBus()
    handoff = HandoffService(tickets=tickets, conversations=conv, bus=bus)
    gen = ScriptedGenerator("The Everyday Checking monthly fee is $10.")
    pipeline = DialoguePipeline(
        knowledge=FakeKnowledge([CHECKING, WIRES], [ROUTING_FAQ]), generator=gen, conversations=conv,
        config=AnsweringSettings(quote_figure_questions=False), nlu=FakeNlu(), policy=HandoffPolicy.load(), handoff=handoff,
    )
    return type("W", (), dict(conv=conv, tickets=tickets, agents=agents, bus=bus, handoff=handoff, pipeline=pipeline, gen=gen))


def say(w, text, cid=None):
    return asyncio.run(complete(w.pipeline, UserTurn(text, "web", cid)))


def test_explicit_request_creates_ticket_with_transcript_and_reason(world):
    first = say(world, "What is the monthly fee for checking?")
    reply = say(world, "I want to talk to a human", first.conversation_id)
    assert reply.path == "handoff" and reply.handoff.active and reply.handoff.reason == "explicit request for a human"
    assert "number 1 in the queue" in reply.text
    ticket = world.tickets.open_for(first.conversation_id)
    assert ticket.status == "queued" and ticket.channel == "web" and "human" in ticket.summary
    assert ticket.intents == ["card_arrival", "human_agent"]


def test_bot_never_answers_while_a_human_holds_the_conversation(world):
    cid = say(world, "get me a person").conversation_id
    calls = len(world.gen.requests)
    reply = say(world, "What is the monthly fee for checking?", cid)
    assert reply.path == "human" and reply.text == "" and len(world.gen.requests) == calls
    agent = world.agents.add("dana", "correct horse staple", display_name="Dana")
    ticket = world.tickets.open_for(cid)
    asyncio.run(world.handoff.claim(ticket.id, agent))
    assert say(world, "hello?", cid).path == "human"
    asyncio.run(world.handoff.close(ticket.id, agent, "handed_back"))
    assert say(world, "What is the monthly fee for checking?", cid).path == "generated"


@pytest.mark.parametrize("text,reason", [
    ("this service is awful", "complaint with negative sentiment"),
    ("I need a refund", "action the assistant cannot perform: request_refund"),
])
def test_policy_rules_hand_off_with_reason(world, text, reason):
    reply = say(world, text)
    assert reply.path == "handoff" and reply.handoff.reason == reason


def test_urgent_intent_gets_answer_and_offer(world):
    reply = say(world, "my card was stolen, what is the wire fee")
    assert reply.path in ("generated", "extractive") and reply.handoff.active is False
    assert reply.handoff.reason == "urgent: lost_or_stolen_card" and reply.suggestions[0] == "Talk to an agent"


def test_unsupported_action_hands_off_only_when_confident():
    from tests.fakes import Signals

    policy = HandoffPolicy.load()
    assert policy.before_retrieval(Signals(intent="request_refund", confidence=0.9)).action == "handoff"
    assert policy.before_retrieval(Signals(intent="request_refund", confidence=0.9)).faq_first
    assert policy.before_retrieval(Signals(intent="verify_source_of_funds", confidence=0.22)).action == "answer"


def test_a_weak_request_for_a_person_yields_to_an_faq_question_and_a_clear_one_does_not():
    from tests.fakes import Signals

    policy = HandoffPolicy.load()
    weak = policy.before_retrieval(Signals(human_request=True, human_score=0.70))
    clear = policy.before_retrieval(Signals(human_request=True, human_score=0.99))
    assert weak.action == clear.action == "handoff" and weak.reason == clear.reason == "explicit request for a human"
    assert weak.faq_first and not clear.faq_first


def test_an_approved_answer_replaces_an_unsupported_action_handoff(world):
    reply = say(world, "routing number please, and a refund")  # FakeNlu: request_refund, an unsupported action
    assert reply.path == "faq" and reply.handoff.reason.startswith("action the assistant cannot perform")
    assert reply.handoff.active is False and reply.suggestions[0] == "Talk to an agent"
    assert world.tickets.open_for(reply.conversation_id) is None
    assert say(world, "I want a refund for my order").path == "handoff"  # no approved answer: a person


def test_a_question_about_an_unsupported_action_the_kb_answers_gets_the_answer_and_the_offer(world):
    """"How much is the fee if I want a refund of a wire?" asks about a rule, not for the refund."""
    reply = say(world, "how much is the wire fee if I want a refund of a wire?")  # FakeNlu: request_refund
    assert reply.path == "extractive" and "$25" in reply.text and reply.citations[0].doc_id == "prod-wires"  # the guard quoted it
    assert reply.handoff.active is False and reply.handoff.reason.startswith("action the assistant cannot perform")
    assert reply.suggestions[0] == "Talk to an agent" and world.tickets.open_for(reply.conversation_id) is None
    assert say(world, "how long does a refund for my order take?").path == "handoff"  # nothing in the KB: a person


def test_asking_whether_an_unsupported_action_is_allowed_gets_the_kbs_answer_and_asking_for_it_a_person(world):
    """"can I get a refund of the wire fee?" asks what the rules allow; "can you refund ..." asks the bot to act."""
    reply = say(world, "can I get a refund of the wire fee?")  # FakeNlu: request_refund, an unsupported action
    assert reply.path == "extractive" and "$25" in reply.text and reply.handoff.active is False
    assert reply.suggestions[0] == "Talk to an agent" and world.tickets.open_for(reply.conversation_id) is None
    for request in ("can you refund the wire fee?", "refund the wire fee"):
        assert say(world, request).path == "handoff"


def test_out_of_scope_refused_and_small_talk(world):
    assert say(world, "best lasagna recipe").path == "refused"
    first = say(world, "What is the monthly fee for checking?")
    assert say(world, "and for lasagna?", first.conversation_id).path != "refused"  # a follow-up keeps the topic
    # the scope head says no, but the knowledge base has a relevant passage: answered, with a banking intent
    kept = say(world, "What is the cut-off time for a domestic wire transfer?")
    assert kept.path in ("generated", "extractive") and kept.intent.name == "transfer_timing"
    assert say(world, "hello there").path == "small_talk"


def test_two_low_confidence_turns_clarify_and_offer_a_person(world):
    first = say(world, "mumble mumble")
    assert first.path == "clarify" and "Card arrival" in first.suggestions
    second = say(world, "mumble again", first.conversation_id)
    assert second.path == "clarify" and second.handoff.reason == "2 consecutive low-confidence turns"
    assert not second.handoff.active and second.offer_agent and second.suggestions[0] == "Talk to an agent"


def test_claim_exactly_once_under_contention(world):
    cid = say(world, "a human please").conversation_id
    ticket = world.tickets.open_for(cid)
    agents = [world.agents.add(f"a{i}", "plum-kettle-orbit") for i in range(8)]

    def claim(agent):
        try:
            world.tickets.claim(ticket.id, agent.id)
            return "won"
        except TicketConflict:
            return "409"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(claim, agents))
    assert results.count("won") == 1 and results.count("409") == 7
    with pytest.raises(TicketNotFound):
        world.tickets.claim(99999, agents[0].id)


def test_closed_ticket_cannot_be_claimed_and_cancel(world):
    cid = say(world, "a human please").conversation_id
    ticket = world.tickets.open_for(cid)
    assert world.tickets.cancel(cid).status == "cancelled"
    assert world.conv.status(cid) == "bot"
    agent = world.agents.add("x", "plum-kettle-orbit")
    with pytest.raises(TicketConflict):
        world.tickets.claim(ticket.id, agent.id)


def test_agent_message_reaches_the_customer_topic(world):
    cid = say(world, "a human please").conversation_id
    agent = world.agents.add("dana", "plum-kettle-orbit", display_name="Dana")

    async def flow():
        async with world.bus.subscribe(conversation_topic(cid)) as q:
            ticket = world.tickets.open_for(cid)
            await world.handoff.claim(ticket.id, agent)
            await world.handoff.agent_message(ticket.id, agent, "Hi, Dana here.")
            return [q.get_nowait(), q.get_nowait()]

    joined, message = asyncio.run(flow())
    assert joined["type"] == "agent_joined" and joined["agent"] == "Dana"
    assert message == {"type": "agent_message", "agent": "Dana", "text": "Hi, Dana here.", "message_id": message["message_id"]}
    assert [m.role for m in world.conv.get(cid).messages][-2:] == ["system", "agent"]


def test_agent_accounts(world):
    world.agents.add("sam", "s3cret-pass-walnut")
    with pytest.raises(AgentExists):
        world.agents.add("sam", "another-pass-cedar")
    with pytest.raises(ValueError):
        world.agents.add("short", "abc")
    assert world.agents.authenticate("sam", "wrong") is None
    sam = world.agents.authenticate("sam", "s3cret-pass-walnut")
    token = world.agents.issue_token(sam.id)
    assert world.agents.resolve(token).username == "sam" and world.agents.resolve("nope") is None
    world.agents.revoke(token)
    assert world.agents.resolve(token) is None
