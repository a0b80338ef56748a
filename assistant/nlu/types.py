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
    handoff_recommended: bool
    reason: str  # why handoff is recommended or the turn is special; "" for an ordinary turn
