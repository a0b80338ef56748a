"""Runs a flow's steps: fills slots, reads back, checks one-time codes, calls actions.

The runner never decides *whether* a message belongs to the flow (the dialogue manager does);
it is told what the message is for and advances until the flow needs the customer again.
Money moves and card changes only after a yes to a read-back of exactly these values: a slot
changed after the yes (a correction, a replayed message) voids it and the read-back repeats.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from assistant.dialogue import entities as ent
from assistant.dialogue.actions import MUTATING, ActionOutcome, CustomerData, FlowActions
from assistant.dialogue.flows import Flow, Step, render
from assistant.dialogue.sealing import Sealer
from assistant.dialogue.slots import SlotRead, read_slot
from assistant.dialogue.state import FlowState
from assistant.i18n import t

YES_NO = (t("chip.yes_confirm"), t("chip.no"))
TALK_TO_AGENT = t("chip.talk_to_agent")
MAX_STEPS = 30  # a flow that loops (a step sending back to itself) ends here instead of spinning
MAX_CODE_TRIES = 3


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
class _Out:
    parts: list[str] = field(default_factory=list)
    events: list[ActionEvent] = field(default_factory=list)
    kb_question: str | None = None
    options: tuple[str, ...] = ()  # choices a problem offered ("Which card: ... or ...?"), as buttons
    asked: str | None = None  # the slot a problem already asked about: its plain question is not repeated

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


def _truthy(name: str, values: dict[str, Any], state: FlowState) -> bool:
    slot, _, key = name.partition(".")
    value = state.slots.get(slot, {}).get(key) if key and isinstance(state.slots.get(slot), dict) else values.get(name)
    return str(value or "").lower() not in ("", "false", "0", "none")


class FlowRunner:
    def __init__(self, flows: dict[str, Flow], actions: FlowActions, *, sealer: Sealer | None = None,
                 today: Callable[[], date] = date.today) -> None:
        self.flows, self.actions, self.today, self.sealer = flows, actions, today, sealer

    # -- reading a message ------------------------------------------------------------------
    def probe(self, state: FlowState, text: str, data: CustomerData, raw: str | None = None) -> dict[str, SlotRead]:
        """Every slot of the flow this message speaks of (found, or a problem with what was said).
        `raw`, the unredacted message, is read by contact slots only, whose values are sealed here."""
        flow = self.flows[state.flow]
        awaited = self.awaited_slot(state)
        # Free text fills only the slot the flow asked for: "change my phone number" is no phone number.
        reads = {name: read_slot(slot, text, data, today=self.today(), role=slot.role, awaited=name == awaited, raw=raw)
                 for name, slot in flow.slots.items() if slot.type not in ("text", "contact") or name == awaited}
        return {k: self._sealed(r) if flow.slots[k].type == "contact" else r
                for k, r in reads.items() if r.found or r.problem}

    def _sealed(self, read: SlotRead) -> SlotRead:
        if read.value is None:
            return read
        if self.sealer is None:
            return SlotRead(problem=t("flow.no_contact_here"))
        value = dict(read.value)
        value["sealed"] = self.sealer.seal(value.pop("value"))
        return SlotRead(value)

    def awaited_slot(self, state: FlowState) -> str | None:
        if state.awaiting != "slot":
            return None
        return self.flows[state.flow].step(state.step).collect

    def prompt(self, state: FlowState) -> tuple[str, tuple[str, ...]]:
        """What the flow is waiting for, asked again (after a digression, or on a resumed socket)."""
        flow = self.flows[state.flow]
        step = flow.step(state.step)
        values = template_values(flow, state)
        if state.awaiting == "confirm" and step.confirm:
            return render(step.confirm, values), YES_NO
        if state.awaiting == "code":
            return t("flow.ask_code"), ()
        if state.awaiting == "slot" and step.collect:
            return render(flow.slots[step.collect].ask, values), ()
        return t("flow.carry_on", title=flow.title), YES_NO

    # -- turns --------------------------------------------------------------------------------
    async def start(self, name: str, text: str, customer_id: str | None, *, data: CustomerData | None = None,
                    raw: str | None = None) -> FlowReply:
        """Slots the first message gives are filled ("send $50 to Maria"); one it gets wrong is said."""
        flow = self.flows[name]
        state = FlowState(flow=name, step=flow.steps[0].id)
        data = data or await self.actions.customer(customer_id)
        out = _Out()
        reads = self.probe(state, text, data, raw)
        problem = next(((n, r) for n, r in reads.items() if r.problem and not r.found), None)
        if problem is not None:  # said once, instead of the plain question for that slot
            out.asked, read = problem
            out.say(read.problem)
            out.options = read.options
        state = self._apply(state, reads, out, quiet=True)
        return await self._advance(flow, state, customer_id, out)

    async def fill(self, state: FlowState, text: str, customer_id: str | None, *,
                   data: CustomerData | None = None, raw: str | None = None) -> FlowReply:
        """The message answers what the flow asked, or corrects a slot ("no, make it 250")."""
        flow = self.flows[state.flow]
        data = data or await self.actions.customer(customer_id)
        reads = self.probe(state, text, data, raw)
        out = _Out()
        awaited = self.awaited_slot(state)
        if awaited and awaited not in reads:
            return await self.reprompt(state, customer_id, problem=None)
        if awaited and reads[awaited].problem and not reads[awaited].found:
            return await self.reprompt(state, customer_id, problem=reads[awaited].problem, options=reads[awaited].options)
        state = self._apply(state, reads, out, quiet=False)
        return await self._advance(flow, state.but(retries=0), customer_id, out)

    async def confirm(self, state: FlowState, customer_id: str | None) -> FlowReply:
        flow = self.flows[state.flow]
        out = _Out()
        out.events.append(ActionEvent("confirmed", state.flow, self._public(state)))
        state = state.but(confirmed=digest(state.slots), awaiting=None, step=self._next(flow, flow.step(state.step)) or state.step)
        return await self._advance(flow, state, customer_id, out)

    async def code(self, state: FlowState, text: str, customer_id: str | None) -> FlowReply:
        flow = self.flows[state.flow]
        digits = ent.parse_digits(text, length=(4, 8))
        if digits is None:
            return await self.reprompt(state, customer_id, problem=t("flow.code_unreadable"))
        checked = await self.actions.check_code(customer_id, digits, state.results.get("otp_id"))
        out = _Out()
        if checked == "ok":
            state = state.but(stepped_up=digest(state.slots), awaiting=None,
                              step=self._next(flow, flow.step(state.step)) or state.step)
            return await self._advance(flow, state, customer_id, out)
        if checked == "wrong" and state.retries + 1 < MAX_CODE_TRIES:
            left = MAX_CODE_TRIES - state.retries - 1
            out.say(t("flow.code_wrong_one", left=left) if left == 1 else t("flow.code_wrong_many", left=left))
            return out.reply(state.but(retries=state.retries + 1))
        out.say(t("flow.code_expired") if checked == "expired" else t("flow.code_last_try"))
        out.say(t("flow.agent_can_help"))
        out.events.append(ActionEvent("failed", state.flow, self._public(state), code=f"code_{checked}"))
        return out.reply(None, (TALK_TO_AGENT,), outcome="failed")

    async def reprompt(self, state: FlowState, customer_id: str | None, *, problem: str | None,
                       options: tuple[str, ...] = ()) -> FlowReply:
        flow = self.flows[state.flow]
        out = _Out()
        slot = flow.slots.get(flow.step(state.step).collect or "")
        limit = slot.max_retries if slot else 2
        if state.retries >= limit:
            out.say(problem)
            out.say(t("flow.bring_in_person"))
            return out.reply(None, handoff=f"flow {flow.name}: could not collect {flow.step(state.step).collect}",
                             outcome="handoff")
        out.say(problem)
        text, suggestions = self.prompt(state)
        if state.awaiting == "slot" and slot and slot.reask:
            text = render(slot.reask, template_values(flow, state))
        out.say(text)
        return out.reply(state.but(retries=state.retries + 1), options or suggestions)

    def cancel(self, state: FlowState, *, why: str = "") -> FlowReply:
        flow = self.flows[state.flow]
        text = t("flow.stopped", title=flow.title) if not state.results else t("flow.stopped_here", title=flow.title)
        text += f" {why}" if why else ""
        return FlowReply(text, None, outcome="cancelled")

    # -- inside --------------------------------------------------------------------------------
    def _apply(self, state: FlowState, reads: dict[str, SlotRead], out: _Out, *, quiet: bool) -> FlowState:
        slots = dict(state.slots)
        changed = []
        for name, read in reads.items():
            if read.found and slots.get(name) != read.value:
                changed.append(name)
                slots[name] = read.value
        if not changed:
            return state
        state = state.but(slots=slots)
        if not quiet and state.awaiting == "confirm":
            labels = ", ".join(f"{n.replace('_', ' ')}: {slots[n]['label']}" for n in changed)
            out.say(t("flow.changed", labels=labels))
        if state.awaiting == "confirm":  # back to the read-back, which now shows the new values
            state = state.but(awaiting=None)
        return state

    def _next(self, flow: Flow, step: Step, code: str | None = None) -> str | None:
        if code is not None and (code in step.branch or "default" in step.branch):
            return step.branch.get(code, step.branch.get("default"))
        return step.next or flow.after(step.id)

    def _unsealed(self, value: Any) -> Any:
        """A sealed slot value opened for the bank, in memory only (`value` beside its label)."""
        if isinstance(value, dict) and "sealed" in value and self.sealer is not None:
            return {**{k: v for k, v in value.items() if k != "sealed"}, "value": self.sealer.open(value["sealed"])}
        return value

    @staticmethod
    def _public(state: FlowState) -> dict[str, Any]:
        return {k: (v.get("label") if isinstance(v, dict) else v) for k, v in state.slots.items()}

    async def _advance(self, flow: Flow, state: FlowState, customer_id: str | None, out: _Out) -> FlowReply:
        step_id: str | None = state.step
        for _ in range(MAX_STEPS):
            if step_id is None:
                return out.reply(None, outcome="completed")
            step = flow.step(step_id)
            state = state.but(step=step_id)
            values = template_values(flow, state)
            if step.when and not _truthy(step.when, values, state):
                step_id = self._next(flow, step)
                continue
            kind = step.kind
            arg = step.arg
            if kind == "collect":
                slot = flow.slots[arg]
                if arg not in state.slots and slot.default:
                    data = await self.actions.customer(customer_id)
                    read = read_slot(slot, slot.default, data, today=self.today())
                    if read.value is not None:
                        state = state.but(slots={**state.slots, arg: read.value})
                if arg in state.slots or slot.optional:  # optional: used if said, never asked
                    step_id = self._next(flow, step)
                    continue
                if out.asked != arg:
                    out.say(render(slot.ask, values))
                return out.reply(state.but(awaiting="slot", retries=0))
            if kind == "confirm":
                if state.confirmed == digest(state.slots) and state.awaiting != "confirm":
                    step_id = self._next(flow, step)
                    continue
                out.say(render(arg, values))
                return out.reply(state.but(awaiting="confirm", confirmed=None), YES_NO)
            if kind == "step_up":
                if state.stepped_up == digest(state.slots):
                    step_id = self._next(flow, step)
                    continue
                sent = await self.actions.send_code(customer_id, flow.name)
                if not sent.ok:
                    out.say(t("flow.code_not_sent"))
                    return out.reply(None, (TALK_TO_AGENT,), outcome="failed")
                out.say(t("flow.code_sent", what=render(arg, values)))
                return out.reply(state.but(awaiting="code", retries=0, results={**state.results, **sent.data}))
            if kind == "action":
                outcome = await self._act(flow, step, state, customer_id, out)
                if outcome is None:
                    return out.reply(None, (TALK_TO_AGENT,), outcome="failed")
                state = state.but(results={**state.results, **outcome.data, "reference": outcome.reference or ""})
                if not outcome.ok and not step.branch:
                    out.say(t("flow.not_completed", title=flow.title, code=outcome.code.replace("_", " ")))
                    return out.reply(None, (TALK_TO_AGENT,), outcome="failed")
                step_id = self._next(flow, step, outcome.code)
                continue
            if kind == "say":
                out.say(render(arg, template_values(flow, state)))
                if step.end:
                    return out.reply(None, outcome="completed")
            elif kind == "answer":
                out.kb_question = render(arg, values)
            elif kind == "link":
                target = self.flows[arg]
                state = FlowState(flow=target.name, step=target.steps[0].id, slots={
                    k: v for k, v in state.slots.items() if k in target.slots})
                flow = target
                step_id = target.steps[0].id
                continue
            elif kind == "handoff":
                return out.reply(None, (TALK_TO_AGENT,), handoff=f"flow {flow.name}: {arg}",
                                 outcome="handoff")
            step_id = self._next(flow, step)
        out.say(t("flow.went_wrong", title=flow.title))
        return out.reply(None, (TALK_TO_AGENT,), outcome="failed")

    async def _act(self, flow: Flow, step: Step, state: FlowState, customer_id: str | None, out: _Out) -> ActionOutcome | None:
        args = {arg: self._unsealed(state.slots.get(slot)) for arg, slot in step.args.items()}
        if state.results.get("otp_id"):
            args["otp_id"] = state.results["otp_id"]  # the backend checks the step-up itself too
        action = step.arg
        mutating = action in MUTATING
        if mutating and state.confirmed != digest(state.slots):
            # A flow file that forgot its read-back, or values changed after the yes: never act on them.
            out.say(t("flow.not_confirmed"))
            return None
        public = {k: (v.get("label") if isinstance(v, dict) else v) for k, v in args.items() if k != "otp_id"}
        out.events.append(ActionEvent("requested", action, public))
        key = f"{state.instance}-{step.id}-{digest(state.slots)}"
        outcome = await self.actions.run(action, customer_id=customer_id, args=args, key=key)
        out.events.append(ActionEvent("executed" if outcome.ok else "failed", action, public, code=outcome.code,
                                      reference=outcome.reference))
        if outcome.code == "unavailable":
            out.say(t("flow.bank_unavailable"))
            return None
        return outcome
