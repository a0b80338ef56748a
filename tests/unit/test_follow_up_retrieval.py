"""Retrieval of follow-ups with the conversation (Answerer.retrieve): what is searched, which documents
lead, and whether the conversation vouches for the message's scope (issue 29)."""

import asyncio

import pytest

from assistant.config import AnsweringSettings
from assistant.core.answering import Answerer
from assistant.core.events import UserTurn
from assistant.core.pipeline import DialoguePipeline
from assistant.storage.db import make_engine, migrate, session_factory
from assistant.storage.repository import ConversationRepository
from tests.fakes import CHECKING, SAVINGS, WIRES, FakeKnowledge, ScriptedGenerator, Signals


def _retrieve(text, previous, topic=()):
    kb = FakeKnowledge([CHECKING, SAVINGS, WIRES])
    answerer = Answerer(knowledge=kb, generator=ScriptedGenerator(), config=AnsweringSettings(min_relevance=0.1))
    return asyncio.run(answerer.retrieve(text, previous, kb.embed(text), [], topic))


def test_a_question_that_names_nothing_is_read_with_the_subject():
    found = _retrieve("why?", ["What is the savings monthly fee?", "ok"], ("prod-savings",))
    assert found.query == "why (What is the savings monthly fee)"
    assert found.leans_on_history and found.passages[0].doc_id == "prod-savings"


def test_a_message_with_words_of_its_own_elsewhere_is_read_alone():
    # "there" points back, and read with the wire question it finds wires; but wires say nothing of tickets
    for topic in (("prod-wires",), ()):
        found = _retrieve("book me some tickets there", ["What is the wire fee?"], topic)
        assert found.query == "book me some tickets there" and not found.leans_on_history


def test_a_pointing_follow_up_in_the_knowledge_base_s_words_is_read_with_the_conversation():
    # "monthly" alone says nothing of wires, but the knowledge base knows the word: "it" is the conversation's
    found = _retrieve("is it monthly?", ["What is the wire fee?"], ("prod-wires",))
    assert found.query == "is it monthly (What is the wire fee)" and found.leans_on_history


def test_a_subject_swap_does_not_keep_the_last_reply_s_documents_first():
    found = _retrieve("and for savings?", ["What is the checking monthly fee?"], ("prod-checking",))
    assert found.query == "monthly fee for savings"
    assert found.passages[0].doc_id == "prod-savings" and found.topic == () and found.leans_on_history


class _OutOfScopeAlone:
    """A scope head that finds short elliptic questions and requests elsewhere out of scope."""

    def wants_second(self, text, embedding) -> bool:
        return False

    def classify(self, text, *, failed_turns=0, embedding=None):
        if "fee" in text.lower():
            return Signals(intent="card_arrival", confidence=0.9)
        return Signals(intent="out_of_scope", confidence=0.9, in_scope=False, top=(("out_of_scope", 0.9),))


@pytest.fixture
def pipeline(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    migrate(engine)
    repo = ConversationRepository(session_factory(engine))
    cfg = AnsweringSettings(min_relevance=0.3, faq_threshold=0.9, quote_figure_questions=True)
    return DialoguePipeline(knowledge=FakeKnowledge([CHECKING, SAVINGS, WIRES]), generator=ScriptedGenerator("unused"),
                            conversations=repo, config=cfg, nlu=_OutOfScopeAlone())


def _run(p, text, cid=None):
    async def go():
        return [e async for e in p.run(UserTurn(text, "api", cid))]
    return asyncio.run(go())[-1]


def test_an_elliptic_follow_up_is_answered_not_refused_and_a_request_elsewhere_is_refused(pipeline):
    first = _run(pipeline, "What is the wire fee?")
    assert first.citations[0].doc_id == "prod-wires"
    follow = _run(pipeline, "up to what amount?", first.conversation_id)
    assert follow.path != "refused" and follow.citations[0].doc_id == "prod-wires"
    elsewhere = _run(pipeline, "That works. Book me some tickets there.", first.conversation_id)
    assert elsewhere.path == "refused"
