"""Handoff rules from a YAML file: answer, clarify, hand off or refuse, with the reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import yaml

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


@dataclass(frozen=True)
class HandoffPolicy:
    explicit_request: bool = True
    # Below this p(asks for a person), a message that is one of the KB's FAQ questions gets the
    # approved answer and an offer to connect instead of the queue ("CTR" reads a little like a
    # request; docs/decisions/0007-scope-and-handoff-overrides.md).
    explicit_request_over_faq: float = 0.8
    complaint_with_negative_sentiment: bool = True
    urgent_intents: frozenset[str] = field(default_factory=frozenset)
    unsupported_actions: frozenset[str] = field(default_factory=frozenset)
    low_confidence_threshold: float = 0.45
    urgent_confidence: float = 0.6  # an urgent intent offers a person only when at least this confident
    weak_retrieval: float = 0.45
    consecutive_low_confidence: int = 2
    frustration_threshold: float = 0.7
    expected_handle_minutes: float = 4.0

    @classmethod
    def load(cls, path: Path = DEFAULT_POLICY) -> HandoffPolicy:
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"cannot read handoff policy {path}: {exc}") from exc
        low = raw.get("low_confidence", {})
        return cls(
            explicit_request=bool(raw.get("explicit_request", True)),
            explicit_request_over_faq=float(raw.get("explicit_request_over_faq", 0.8)),
            complaint_with_negative_sentiment=bool(raw.get("complaint_with_negative_sentiment", True)),
            urgent_intents=frozenset(raw.get("urgent_intents", [])),
            unsupported_actions=frozenset(raw.get("unsupported_actions", [])),
            low_confidence_threshold=float(low.get("threshold", 0.45)),
            urgent_confidence=float(raw.get("urgent_confidence", 0.6)),
            weak_retrieval=float(low.get("weak_retrieval", 0.45)),
            consecutive_low_confidence=int(low.get("consecutive_turns", 2)),
            frustration_threshold=float(raw.get("frustration_threshold", 0.7)),
            expected_handle_minutes=float(raw.get("expected_handle_minutes", 4)),
        )

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
