"""Typed events passed between the channels and the dialogue core."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

Channel = Literal["web", "api", "cli", "voice", "robot"]
# The path of every stored message: how a reply was made, or (system notes, voice calls) what happened.
ReplyPath = Literal[
    "faq", "generated", "extractive", "no_answer", "error", "small_talk", "refused", "clarify", "handoff", "human",
    "flow",
    "rephrase", "declined",
    # voice calls: a reply cut off (what was heard of it), a barge-in or key press note, silence, a failed turn
    "interrupted", "barge_in", "dtmf", "silence", "turn_error",
]


@dataclass(frozen=True, slots=True)
class UserTurn:
    text: str
    channel: Channel = "api"
    conversation_id: str | None = None
    received_at: float = field(default_factory=time.perf_counter)
    branch_id: str | None = None  # lobby robots: which branch the visitor is in
    customer_id: str | None = None  # proven at the edge (a verified identity assertion) for this turn


@dataclass(frozen=True, slots=True)
class Citation:
    doc_id: str
    title: str
    snippet: str
    section: str = ""
    source: str = ""
    score: float = 0.0
    category: str = ""


@dataclass(frozen=True, slots=True)
class IntentInfo:
    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class HandoffInfo:
    active: bool
    reason: str


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """Which route the dialogue manager chose for the turn, and why (stored for analytics and audit)."""

    kind: str
    reason: str
    flow: str | None = None  # the self-service flow the route concerned
    outcome: str | None = None  # how that flow ended on this turn: completed | cancelled | failed | handoff


@dataclass(frozen=True, slots=True)
class FlowInfo:
    """The self-service flow in progress after this reply: what it waits for."""

    name: str
    awaiting: str | None  # slot | confirm | code | identity
    slot: str | None = None


@dataclass(frozen=True, slots=True)
class TurnStarted:
    conversation_id: str


@dataclass(frozen=True, slots=True)
class ReplyDelta:
    conversation_id: str
    text: str


@dataclass(frozen=True, slots=True)
class TurnError:
    """Logged and stored; the customer receives an apology Reply right after it."""

    conversation_id: str
    stage: str
    detail: str


@dataclass(frozen=True, slots=True)
class Reply:
    conversation_id: str
    text: str
    path: ReplyPath
    citations: tuple[Citation, ...] = ()
    intent: IntentInfo | None = None
    handoff: HandoffInfo | None = None
    suggestions: tuple[str, ...] = ()
    latency_ms: float = 0.0
    first_token_ms: float | None = None
    message_id: int | None = None
    retrieved: tuple[str, ...] = ()  # doc ids given to the model (for the audit trail)
    guard: str | None = None  # grounding decision for the audit trail: passed | replaced | declined | quoted | model_unavailable
    route: RouteInfo | None = None
    flow: FlowInfo | None = None
    customer_id: str | None = None  # the verified customer, when there is one
    actions: tuple = ()  # assistant.dialogue.runner.ActionEvent: requested, confirmed, executed, failed (audited)
    offer_agent: bool = False  # the reply offers a person (urgent topic, repeated doubt); no hand-off has started


Event = TurnStarted | ReplyDelta | TurnError | Reply
