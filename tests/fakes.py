"""Fakes that implement the production interfaces (Generator, KnowledgeSource, the voice detector)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import numpy as np

from assistant.llm import GenerationError, GenerationRequest
from knowledge_base import FaqEntry, FaqMatch, Passage

VOCAB = ["fee", "checking", "savings", "monthly", "wire", "card", "lost", "routing", "apy", "rate", "lasagna", "hours"]


def bag(text: str) -> np.ndarray:
    words = re.findall(r"[a-z]+", text.lower())
    v = np.array([float(w in words) for w in VOCAB], dtype=np.float32)
    n = np.linalg.norm(v)
    return v / n if n else v


class ScriptedGenerator:
    """Streams a fixed reply in small pieces; can fail on demand. Records every request."""

    name = "scripted"

    def __init__(self, reply: str = "", fail: bool = False) -> None:
        self.reply, self.fail, self.requests = reply, fail, []

    def close(self) -> None:
        pass

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        self.requests.append(request)
        if self.fail:
            raise GenerationError("model crashed")
        for i in range(0, len(self.reply), 4):
            yield self.reply[i : i + 4]


class FakeKnowledge:
    """A tiny knowledge source with bag-of-words vectors over a fixed vocabulary."""

    def __init__(self, passages: list[Passage], faqs: list[FaqEntry] = (), unsearched: list[Passage] = ()) -> None:
        """`unsearched`: sections of the same documents that `search` never returns (only `document_passages`)."""
        self.passages, self.faqs, self.queries, self.unsearched = passages, list(faqs), [], list(unsearched)

    def embed(self, text: str) -> np.ndarray:
        return bag(text)

    async def aembed(self, text: str, *, fast: bool = False) -> np.ndarray:
        return bag(text)

    def embed_many(self, texts: list[str]) -> np.ndarray:
        return np.stack([bag(t) for t in texts])

    def search(self, query, k=5, category=None, vector=None) -> list[Passage]:
        self.queries.append(query)
        qv = bag(query) if vector is None else vector
        return sorted(self._scored(self.passages, qv), key=lambda p: -p.score)[:k]

    def document_passages(self, doc_id: str, vector: np.ndarray) -> list[Passage]:
        return self._scored([p for p in self.passages + self.unsearched if p.doc_id == doc_id], vector)

    def knows(self, words: list[str]) -> bool:
        text = " ".join(p.title + " " + p.text for p in self.passages + self.unsearched).lower()
        return all(w in text.split() or f"{w}." in text.split() for w in words)

    @staticmethod
    def _scored(passages: list[Passage], qv: np.ndarray) -> list[Passage]:
        return [Passage(**{**{f: getattr(p, f) for f in p.__slots__}, "score": float(bag(p.title + " " + p.text) @ qv)})
                for p in passages]

    def faq_candidates(self, vector, n=4) -> list[FaqMatch]:
        out = []
        for e in self.faqs:
            best = max(e.questions, key=lambda q: float(bag(q) @ vector))
            out.append(FaqMatch(entry=e, score=float(bag(best) @ vector), matched_question=best))
        return sorted(out, key=lambda m: -m.score)[:n]


def passage(doc_id: str, title: str, text: str, section: str = "Overview") -> Passage:
    return Passage(chunk_id=f"{doc_id}#0", doc_id=doc_id, title=title, section=section, category="accounts",
                   source="test", text=text, score=0.0)


CHECKING = passage("prod-checking", "Everyday Checking", "The Everyday Checking monthly fee is $10, waived with a $500 balance.", "Monthly fee")
SAVINGS = passage("prod-savings", "Everyday Savings", "The Everyday Savings monthly fee is $5. Savings pays 0.50% APY.", "Monthly fee")
WIRES = passage("prod-wires", "Wire transfers", "Domestic wire cut-off time is 4:00 p.m. ET. The outgoing wire fee is $25.", "Fees")
ROUTING_FAQ = FaqEntry(
    faq_id="faq-routing", title="What is the routing number?", questions=("What is the routing number?", "routing number please"),
    answer="Our routing number is 000111222.", answer_doc="prod-direct-deposit", source="test",
)


from dataclasses import dataclass  # noqa: E402


@dataclass(frozen=True)
class Signals:
    intent: str = "card_arrival"
    confidence: float = 0.9
    in_scope: bool = True
    human_request: bool = False
    human_score: float = 1.0
    sentiment: str = "neutral"
    frustration: float = 0.0
    top: tuple = (("card_arrival", 0.9), ("card_delivery_estimate", 0.05))


class FakeNlu:
    """Implements the classifier role with rules keyed on words, for policy tests."""

    def __init__(self) -> None:
        self.failed_turns: list[int] = []

    def wants_second(self, text, embedding) -> bool:
        return False

    def classify(self, text: str, *, failed_turns: int = 0, embedding=None) -> Signals:
        self.failed_turns.append(failed_turns)
        t = text.lower()
        if "human" in t or "person" in t:
            return Signals(intent="human_agent", human_request=True)
        if "lasagna" in t or "cut-off" in t:  # "cut-off": a banking topic the scope head does not know
            return Signals(intent="out_of_scope", in_scope=False, top=(("out_of_scope", 0.7), ("transfer_timing", 0.2)))
        if t.startswith("hello"):
            return Signals(intent="greeting")
        if "stolen" in t:
            return Signals(intent="lost_or_stolen_card")
        if "refund" in t:
            return Signals(intent="request_refund")
        if "awful" in t:
            return Signals(intent="complaint", sentiment="negative", frustration=0.5)
        if "mumble" in t:
            return Signals(intent="card_arrival", confidence=0.2, top=(("card_arrival", 0.2), ("exchange_rate", 0.15)))
        return Signals()


class EchoGenerator:
    """Streams back the whole prompt it was given, passages and question: a model that obeys and repeats
    everything in its context, the worst case for instructions planted in a knowledge-base document."""

    name = "echo"

    def __init__(self) -> None:
        self.requests = []

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        self.requests.append(request)
        text = request.messages[-1].content
        for i in range(0, len(text), 7):
            yield text[i : i + 7]


class ScriptedVad:
    """A VAD whose speech probability for each 32 ms window is read from a list (window i holds the value i)."""

    def __init__(self, probs):
        self.probs = probs

    def stream(self):
        probs = self.probs

        class _Stream:
            def window(self, samples):
                return probs[int(samples[0])]

        return _Stream()
