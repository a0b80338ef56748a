"""Runs a flow's steps from where its state stands until the flow needs the customer again or ends.

Each step kind has one handler that gives a reply (the flow waits or ends) or where to go next.
An action that moves money or changes a card runs only on slot values the customer said yes to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant.dialogue.actions import MUTATING, ActionOutcome, FlowActions, parts_for
from assistant.dialogue.flow_reply import ActionEvent, FlowReply, ReplyBuilder, digest, template_values, truthy
from assistant.dialogue.flows import Flow, Step, render
from assistant.dialogue.sealing import Sealer
from assistant.dialogue.slots import read_slot
from assistant.dialogue.state import FlowState
from assistant.i18n import t

YES_NO = (t("chip.yes_confirm"), t("chip.no"))
TALK_TO_AGENT = t("chip.talk_to_agent")
MAX_STEPS = 30  # a flow that loops (a step sending back to itself) ends here instead of spinning


@dataclass(frozen=True, slots=True)
class _Go:
    """Carry on at `step` of `flow` with `state` (step None: the flow is done)."""

    flow: Flow
    state: FlowState
    step: str | None


_Handler = Callable[[Flow, Step, FlowState, str | None, ReplyBuilder], Awaitable[FlowReply | _Go | None]]


class StepRunner:
    """The flows, the actions behind them, and the step loop every turn of `FlowRunner` ends in."""

    def __init__(self, flows: dict[str, Flow], actions: FlowActions, *, sealer: Sealer | None = None,
                 today: Callable[[], date] = date.today) -> None:
        self.flows, self.actions, self.today, self.sealer = flows, actions, today, sealer
        # A step kind without a handler here (none today) goes on to the next step.
        self._handlers: dict[str, _Handler] = {
            "collect": self._collect, "confirm": self._read_back, "step_up": self._step_up, "action": self._action,
            "say": self._say, "answer": self._answer, "link": self._link, "handoff": self._handoff}

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

    async def _advance(self, flow: Flow, state: FlowState, customer_id: str | None, out: ReplyBuilder) -> FlowReply:
        """Runs steps from `state.step` until the flow needs the customer again or ends."""
        go = _Go(flow, state, state.step)
        for _ in range(MAX_STEPS):
            if go.step is None:
                return out.reply(None, outcome="completed")
            step = go.flow.step(go.step)
            state = go.state.but(step=go.step)
            if step.when and not truthy(step.when, template_values(go.flow, state), state):
                go = _Go(go.flow, state, self._next(go.flow, step))
                continue
            handler = self._handlers.get(step.kind)
            result = await handler(go.flow, step, state, customer_id, out) if handler else None
            if isinstance(result, FlowReply):
                return result
            go = result or _Go(go.flow, state, self._next(go.flow, step))
        out.say(t("flow.went_wrong", title=go.flow.title))
        return out.reply(None, (TALK_TO_AGENT,), outcome="failed")

    # -- one step each: a reply (the flow waits or ends) or where to go next -------------------
    async def _collect(self, flow: Flow, step: Step, state: FlowState, customer_id: str | None,
                       out: ReplyBuilder) -> FlowReply | _Go:
        slot = flow.slots[step.arg]
        if step.arg not in state.slots and slot.default:
            needs = parts_for((slot.type,))
            data = out.data if out.data is not None and needs <= out.data.parts else \
                await self.actions.customer(customer_id, needs)
            read = read_slot(slot, slot.default, data, today=self.today())
            if read.value is not None:
                state = state.but(slots={**state.slots, step.arg: read.value})
        if step.arg in state.slots or slot.optional:  # optional: used if said, never asked
            return _Go(flow, state, self._next(flow, step))
        if out.asked != step.arg:
            out.say(render(slot.ask, template_values(flow, state)))
        return out.reply(state.but(awaiting="slot", retries=0))

    async def _read_back(self, flow: Flow, step: Step, state: FlowState, customer_id: str | None,
                         out: ReplyBuilder) -> FlowReply | _Go:
        if state.confirmed == digest(state.slots) and state.awaiting != "confirm":
            return _Go(flow, state, self._next(flow, step))
        out.say(render(step.arg, template_values(flow, state)))
        return out.reply(state.but(awaiting="confirm", confirmed=None), YES_NO)

    async def _step_up(self, flow: Flow, step: Step, state: FlowState, customer_id: str | None,
                       out: ReplyBuilder) -> FlowReply | _Go:
        if state.stepped_up == digest(state.slots):
            return _Go(flow, state, self._next(flow, step))
        sent = await self.actions.send_code(customer_id, flow.name)
        if not sent.ok:
            out.say(t("flow.code_not_sent"))
            return out.reply(None, (TALK_TO_AGENT,), outcome="failed")
        out.say(t("flow.code_sent", what=render(step.arg, template_values(flow, state))))
        return out.reply(state.but(awaiting="code", retries=0, results={**state.results, **sent.data}))

    async def _action(self, flow: Flow, step: Step, state: FlowState, customer_id: str | None,
                      out: ReplyBuilder) -> FlowReply | _Go:
        outcome = await self._act(flow, step, state, customer_id, out)
        if outcome is None:
            return out.reply(None, (TALK_TO_AGENT,), outcome="failed")
        state = state.but(results={**state.results, **outcome.data, "reference": outcome.reference or ""})
        if not outcome.ok and not step.branch:
            out.say(t("flow.not_completed", title=flow.title, code=outcome.code.replace("_", " ")))
            return out.reply(None, (TALK_TO_AGENT,), outcome="failed")
        return _Go(flow, state, self._next(flow, step, outcome.code))

    async def _say(self, flow: Flow, step: Step, state: FlowState, customer_id: str | None,
                   out: ReplyBuilder) -> FlowReply | None:
        out.say(render(step.arg, template_values(flow, state)))
        return out.reply(None, outcome="completed") if step.end else None

    async def _answer(self, flow: Flow, step: Step, state: FlowState, customer_id: str | None,
                      out: ReplyBuilder) -> None:
        out.kb_question = render(step.arg, template_values(flow, state))

    async def _link(self, flow: Flow, step: Step, state: FlowState, customer_id: str | None,
                    out: ReplyBuilder) -> _Go:
        """Into another flow, carrying the slots it shares."""
        target = self.flows[step.arg]
        state = FlowState(flow=target.name, step=target.steps[0].id,
                          slots={k: v for k, v in state.slots.items() if k in target.slots})
        return _Go(target, state, target.steps[0].id)

    async def _handoff(self, flow: Flow, step: Step, state: FlowState, customer_id: str | None,
                       out: ReplyBuilder) -> FlowReply:
        return out.reply(None, (TALK_TO_AGENT,), handoff=f"flow {flow.name}: {step.arg}", outcome="handoff")

    async def _act(self, flow: Flow, step: Step, state: FlowState, customer_id: str | None, out: ReplyBuilder) -> ActionOutcome | None:
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
        if mutating:  # the lists this turn read may be out of date now
            out.data = None
        out.events.append(ActionEvent("executed" if outcome.ok else "failed", action, public, code=outcome.code,
                                      reference=outcome.reference))
        if outcome.code == "unavailable":
            out.say(t("flow.bank_unavailable"))
            return None
        return outcome
