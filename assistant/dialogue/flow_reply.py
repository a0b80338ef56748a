"""What a flow turn gives back (`FlowReply`, `ActionEvent`) and the pieces `FlowRunner` builds it from."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.dialogue.actions import CustomerData
from assistant.dialogue.flows import Flow
from assistant.dialogue.state import FlowState


@dataclass(frozen=True, slots=True)
class ActionEvent:
    """For the audit trail: every action requested, confirmed, executed or failed."""

    kind: Literal["requested", "confirmed", "executed", "failed"]
    action: str
    args: dict[str, Any]
    code: str = ""
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class FlowReply:
    text: str
    state: FlowState | None  # None: the flow is over
    suggestions: tuple[str, ...] = ()
    kb_question: str | None = None  # an answer step: the caller answers it from the KB, cited
    handoff: str | None = None  # a reason: the caller opens a ticket carrying the flow state
    events: tuple[ActionEvent, ...] = ()
    outcome: str = "pending"  # pending | completed | cancelled | failed | handoff


@dataclass
class ReplyBuilder:
    """The reply of one turn as the runner's steps add to it."""

    parts: list[str] = field(default_factory=list)
    events: list[ActionEvent] = field(default_factory=list)
    kb_question: str | None = None
    options: tuple[str, ...] = ()  # choices a problem offered ("Which card: ... or ...?"), as buttons
    asked: str | None = None  # the slot a problem already asked about: its plain question is not repeated
    data: CustomerData | None = None  # the customer's lists this turn read, for the slot defaults its steps read

    def say(self, text: str | None) -> None:
        if text:
            self.parts.append(text)

    def reply(self, state: FlowState | None, suggestions: tuple[str, ...] = (), *, handoff: str | None = None,
              outcome: str = "pending") -> FlowReply:
        return FlowReply(" ".join(self.parts).strip(), state, suggestions or self.options, self.kb_question, handoff,
                         tuple(self.events), outcome)


def digest(slots: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(slots, sort_keys=True, default=str).encode()).hexdigest()[:32]


def template_values(flow: Flow, state: FlowState) -> dict[str, Any]:
    values: dict[str, Any] = {"title": flow.title}
    values.update(state.results)
    values.update({k: v.get("label", "") for k, v in state.slots.items() if isinstance(v, dict)})
    return values


def truthy(name: str, values: dict[str, Any], state: FlowState) -> bool:
    """A step's `when`: a template value or a slot's field ("card.frozen") that is set and not false."""
    slot, _, key = name.partition(".")
    value = state.slots.get(slot, {}).get(key) if key and isinstance(state.slots.get(slot), dict) else values.get(name)
    return str(value or "").lower() not in ("", "false", "0", "none")
