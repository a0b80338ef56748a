"""What the NLU says about one customer turn."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NluResult:
    intent: str  # a BANKING77 label or human_agent/complaint/greeting/goodbye/thanks/out_of_scope
    confidence: float  # calibrated probability of `intent` (temperature-scaled)
    top: tuple[tuple[str, float], ...]  # the five most likely intents with probabilities
    in_scope: bool  # about banking (or talking to the assistant itself); False means refuse
    human_request: bool  # asks for a person, directly or not
    human_score: float  # the head's p(asks for a person); human_request is this >= its threshold
    sentiment: str  # negative | neutral | positive
    frustration: float  # 0..1; includes the caller's count of recent failed turns
    handoff_recommended: bool  # hand over now: a request for a person or a strong trigger of the policy
    reason: str  # why handoff is recommended or the turn is special; "" for an ordinary turn
    offer_agent: bool = False  # answer as usual and offer a person (a confident urgent intent)
    # A route of its own: "rephrase" (keyboard mashing), "advice" (investment/tax/legal advice
    # declined), "not_offered" (a product the bank does not sell), "clarify" (low confidence:
    # ask which of the top intents is meant); "" otherwise.
    route: str = ""
    nearest_product: str = ""  # route "not_offered": the knowledge base's closest real product title
