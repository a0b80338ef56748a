"""The one place that decides what a turn is for, as a pure function of the turn's facts.

`decide(facts)` returns a Route: a flow route (start, fill or correct a slot, confirm, code,
cancel, digression, re-ask), a hand-off, a request to verify identity, or "knowledge" (the
knowledge-base answering path, which applies its own answer/clarify/refuse rules). Tested as a
table in tests/unit/test_dialogue_manager.py; the executors act on the route it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RouteKind = Literal[
    "handoff", "cancel", "code", "confirm", "deny", "slot_fill", "slot_correct", "flow_start", "verify",
    "digression", "reprompt", "knowledge",
]


@dataclass(frozen=True, slots=True)
class TurnFacts:
    """What is known of a turn before anything is done about it."""

    active_flow: str | None = None
    awaiting: str | None = None  # slot | confirm | code | identity
    awaited_slot: str | None = None
    fills: frozenset[str] = frozenset()  # slots of the active flow this message gives a value for
    problems: frozenset[str] = frozenset()  # slots it speaks of with a value that does not fit
    changes: frozenset[str] = frozenset()  # of `fills`, those whose value differs from the one held
    cancel: bool = False  # "forget it", "never mind"
    yes_no: bool | None = None
    digits: bool = False  # a code-like run of digits
    new_flow: str | None = None  # a flow this message asks for (trigger matched)
    new_flow_requires_identity: bool = True
    verified: bool = False
    human_request: bool = False  # a clear request for a person ("can I talk to a real person")
    human_weak: bool = False  # the request-for-a-person cue fired, but weakly: it yields to any flow action
    question: bool = False  # asks about a rule, a fee, a figure: a knowledge-base question


@dataclass(frozen=True, slots=True)
class Route:
    kind: RouteKind
    reason: str
    flow: str | None = None


FLOW_WORK = frozenset({"cancel", "code", "confirm", "deny", "slot_fill", "slot_correct", "flow_start", "verify"})


def decide(f: TurnFacts) -> Route:
    if f.active_flow is not None:
        route = _in_flow(f)
        # A customer answering the flow's question ("yes please", a code, an amount) is not asking for a
        # person, whatever a classifier reads into two words; a clear request otherwise wins.
        if route is not None and route.kind in FLOW_WORK:
            return route
        if f.human_request:  # a weak cue here is as likely a mistyped answer: the flow asks again
            return Route("handoff", "explicit request for a human", f.active_flow)
        if route is not None:
            return route
    if f.new_flow is None:  # the knowledge path applies the hand-off policy (an FAQ first for a weak request)
        return Route("knowledge", "no flow: answer from the knowledge base")
    if f.human_request:
        return Route("handoff", "explicit request for a human", f.active_flow)
    if f.new_flow is not None:
        if f.new_flow_requires_identity and not f.verified:
            return Route("verify", f"{f.new_flow} needs a verified customer", f.new_flow)
        return Route("flow_start", f"asked for {f.new_flow}", f.new_flow)
    return Route("knowledge", "no flow: answer from the knowledge base")


def _in_flow(f: TurnFacts) -> Route | None:
    flow = f.active_flow
    if f.cancel and not f.fills:
        return Route("cancel", "customer cancelled", flow)
    if f.awaiting == "code":
        if f.digits:
            return Route("code", "one-time code given", flow)
        if f.new_flow is None and not f.question:
            return Route("reprompt", "waiting for the one-time code", flow)
    if f.awaiting == "confirm":
        if f.changes:
            return Route("slot_correct", f"changed {', '.join(sorted(f.changes))} before confirming", flow)
        if f.yes_no is True:
            return Route("confirm", "customer confirmed the read-back", flow)
        if f.yes_no is False:
            return Route("deny", "customer declined the read-back", flow)
    if f.awaiting == "slot" and f.awaited_slot is not None:
        if f.awaited_slot in f.fills:
            return Route("slot_fill", f"gave {f.awaited_slot}", flow)
        if f.awaited_slot in f.problems and f.new_flow is None:
            return Route("reprompt", f"{f.awaited_slot} does not fit", flow)
    if f.changes and f.new_flow in (None, flow):
        return Route("slot_correct", f"changed {', '.join(sorted(f.changes))}", flow)
    if f.new_flow is not None and f.new_flow != flow:
        if not f.verified and f.new_flow_requires_identity:
            return Route("verify", f"{f.new_flow} needs a verified customer", f.new_flow)
        return Route("flow_start", f"switched from {flow} to {f.new_flow}", f.new_flow)
    if f.question:
        return Route("digression", "a knowledge question inside a flow", flow)
    if f.awaiting == "identity":
        return None  # not verified yet: the message is answered as any other, the flow waits
    return Route("reprompt", "the message does not answer the flow's question", flow)
