"""Requests to explain or repeat the last answer, read by their vector (assistant/core/explain_requests.py)."""

import asyncio

import numpy as np

from assistant.config import AnsweringSettings
from assistant.core.answering import Answerer
from assistant.core.explain_requests import REQUESTS, ExplainRequests
from assistant.core.rewrite import rewrite_query
from assistant.core.subjects import names_nothing
from tests.fakes import CHECKING, SAVINGS, WIRES, FakeKnowledge, ScriptedGenerator, bag

LOST = bag("lasagna")  # a direction no passage of the fake knowledge base points in: "what the request means"


class _Encoder:
    """Every written request encodes to LOST; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return np.stack([LOST for _ in texts])


def test_a_short_message_near_a_request_asks_and_the_requests_are_encoded_once():
    encoder = _Encoder()
    reader = ExplainRequests(encoder, threshold=0.6)
    assert encoder.calls == 0  # nothing encoded before it is needed
    assert reader.asks("sorry, that went over my head", LOST)
    assert reader.asks("I'm lost", LOST) and encoder.calls == 1
    assert reader.similarity(LOST) > 0.99


def test_a_message_far_from_every_request_or_too_long_does_not_ask():
    reader = ExplainRequests(_Encoder(), threshold=0.6)
    assert not reader.asks("what is the wire fee", bag("wire fee"))
    assert not reader.asks(" ".join(["lost"] * 13), LOST)  # longer than an elliptic follow-up
    assert not reader.asks("", LOST)


def test_the_requests_are_written_for_the_project_in_several_forms():
    assert len(REQUESTS) >= 15 and len(set(REQUESTS)) == len(REQUESTS)
    assert any(r.endswith("?") for r in REQUESTS) and any(len(r.split()) <= 3 for r in REQUESTS)


def test_an_elliptic_message_is_read_with_the_conversation_s_subject():
    assert rewrite_query("sorry, I'm lost", ["What is the wire fee?"], elliptic=True) == "sorry, I'm lost (What is the wire fee)"
    assert rewrite_query("sorry, I'm lost", ["What is the wire fee?"]) == "sorry, I'm lost"
    assert rewrite_query("sorry, I'm lost", [], elliptic=True) == "sorry, I'm lost"


class _Knowledge(FakeKnowledge):
    def embed_many(self, texts: list[str]) -> np.ndarray:
        return np.stack([LOST for _ in texts])


def _retrieve(text: str, previous: list[str], vector: np.ndarray):
    kb = _Knowledge([CHECKING, SAVINGS, WIRES])
    answerer = Answerer(knowledge=kb, generator=ScriptedGenerator(), config=AnsweringSettings(min_relevance=0.1))
    return asyncio.run(answerer.retrieve(text, previous, vector, [], ("prod-wires",)))


def test_a_request_with_words_of_its_own_is_read_with_the_conversation():
    # "lost" and "head" are words of its own (no closed list names them), so without its vector it is read alone
    assert not names_nothing("I'm lost, that went over my head")
    found = _retrieve("I'm lost, that went over my head", ["What is the wire fee?"], LOST)
    assert found.query == "I'm lost, that went over my head (What is the wire fee)"
    assert found.leans_on_history and found.passages[0].doc_id == "prod-wires"


def test_a_message_that_names_its_own_subject_is_not_such_a_request():
    found = _retrieve("what is the savings monthly fee", ["What is the wire fee?"], bag("savings monthly fee"))
    assert found.query == "what is the savings monthly fee" and found.passages[0].doc_id == "prod-savings"


def test_a_first_message_has_no_conversation_to_lean_on():
    found = _retrieve("I'm lost, that went over my head", [], LOST)
    assert found.query == "I'm lost, that went over my head" and not found.leans_on_history
