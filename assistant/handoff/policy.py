"""Handoff rules from a YAML file (validated, policy.yaml): answer, clarify, hand off or refuse, with the reason."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from assistant.config.yaml_files import load_yaml_model

DEFAULT_POLICY = Path(__file__).resolve().parent / "policy.yaml"
SMALL_TALK = {"greeting", "goodbye", "thanks"}


class NluSignals(Protocol):
    """Read-only: a frozen result (assistant/nlu/types.py NluResult) implements it."""

    @property
    def intent(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def in_scope(self) -> bool: ...
    @property
    def human_request(self) -> bool: ...
    @property
    def human_score(self) -> float: ...
    @property
    def sentiment(self) -> str: ...
    @property
    def frustration(self) -> float: ...


def urgent_mass(nlu: NluSignals, urgent: frozenset[str]) -> float:
    """How sure the NLU is that the topic is urgent: the urgent intents' share of its top intents."""
    top = tuple(getattr(nlu, "top", ()) or ())
    if nlu.intent not in {name for name, _ in top}:
        top += ((nlu.intent, nlu.confidence),)
    return float(sum(c for name, c in top if name in urgent))


@dataclass(frozen=True, slots=True)
class Decision:
    action: Literal["answer", "small_talk", "handoff", "refuse", "rephrase", "decline"]
    reason: str = ""
    offer_agent: bool = False
    faq_first: bool = False  # a handoff that an approved FAQ answer (plus an offer to connect) replaces
    kb_first: bool = False  # ... and that a KB answer replaces when the customer asks about the rule ("can I cancel it?")


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LowConfidence(_Rules):
    threshold: float = Field(ge=0, le=1, description="intent confidence under this is low ...")
    weak_retrieval: float = Field(ge=0, le=1, description="... when the best passage is also weaker than this")
    consecutive_turns: int = Field(ge=1, description="low-confidence turns in a row before the clarifying "
                                   "question offers an agent first")


class HandoffPolicy(_Rules):
    """The rules of policy.yaml. Every value comes from the file (no defaults here: the shipped
    policy.yaml is the one place they are written); a missing or malformed key is refused at its line."""

    explicit_request: bool
    # Below this p(asks for a person), a message that is one of the KB's FAQ questions gets the
    # approved answer and an offer to connect instead of the queue ("CTR" reads a little like a
    # request; docs/decisions/0007-scope-and-handoff-overrides.md).
    explicit_request_over_faq: float = Field(ge=0, le=1)
    complaint_with_negative_sentiment: bool
    urgent_confidence: float = Field(ge=0, le=1)  # an urgent intent offers a person only when at least this confident
    urgent_intents: frozenset[str]
    unsupported_actions: frozenset[str]
    low_confidence: LowConfidence
    frustration_threshold: float = Field(ge=0, le=1)
    expected_handle_minutes: float = Field(gt=0)

    @staticmethod
    @functools.lru_cache(maxsize=8)
    def load(path: Path = DEFAULT_POLICY) -> HandoffPolicy:
        """Read once per file; YamlConfigError (a ValueError) names the line and the field that is wrong."""
        return load_yaml_model(path, HandoffPolicy)

    @property
    def low_confidence_threshold(self) -> float:
        return self.low_confidence.threshold

    @property
    def weak_retrieval(self) -> float:
        return self.low_confidence.weak_retrieval

    @property
    def consecutive_low_confidence(self) -> int:
        return self.low_confidence.consecutive_turns

    def before_retrieval(self, nlu: NluSignals) -> Decision:
        """Rules that need only the message itself."""
        if self.explicit_request and nlu.human_request:
            return Decision("handoff", "explicit request for a human",
                            faq_first=nlu.human_score < self.explicit_request_over_faq)
        route = getattr(nlu, "route", "")
        if route == "rephrase":  # keyboard mashing: ask again, never a person
            return Decision("rephrase", getattr(nlu, "reason", "") or "unreadable: please rephrase")
        if self.complaint_with_negative_sentiment and nlu.intent == "complaint" and nlu.sentiment == "negative":
            return Decision("handoff", "complaint with negative sentiment")
        if nlu.frustration >= self.frustration_threshold:
            return Decision("handoff", "customer frustration")
        if route in ("advice", "not_offered"):  # decline politely, say what the bank can do
            return Decision("decline", getattr(nlu, "reason", "") or route)
        # Only a confident intent: "What is Premier Interest Checking?" came out as
        # verify_source_of_funds at 0.22 and was handed to a person.
        if nlu.intent in self.unsupported_actions and nlu.confidence >= self.low_confidence_threshold:
            # "How do I close my account?" has an approved answer; the customer gets it and an offer.
            return Decision("handoff", f"action the assistant cannot perform: {nlu.intent}", faq_first=True,
                            kb_first=True)
        if nlu.intent in SMALL_TALK and nlu.confidence >= self.low_confidence_threshold:
            return Decision("small_talk", nlu.intent)
        if not nlu.in_scope:
            return Decision("refuse", "out of scope")
        # The self-service answer plus an offer of a person, only for a confident urgent intent
        # (the urgent intents' probabilities together: "someone stole my card" splits between two).
        if nlu.intent in self.urgent_intents and urgent_mass(nlu, self.urgent_intents) >= self.urgent_confidence:
            return Decision("answer", f"urgent: {nlu.intent}", offer_agent=True)
        return Decision("answer")

    def is_low_confidence(self, nlu: NluSignals, best_passage_score: float) -> bool:
        return nlu.confidence < self.low_confidence_threshold and best_passage_score < self.weak_retrieval

    def after_low_confidence(self, previous_low_turns: int) -> Decision:
        """Low confidence is never a hand-off by itself: a clarifying question with the top
        candidates; after `consecutive_low_confidence` such turns it offers a person first.
        (Repeated failures still raise frustration, which hands over at its own threshold.)"""
        offer = previous_low_turns + 1 >= self.consecutive_low_confidence
        reason = f"{self.consecutive_low_confidence} consecutive low-confidence turns" if offer else "low confidence: clarify"
        return Decision("answer", reason, offer_agent=offer)
