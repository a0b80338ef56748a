"""Runs a flow's steps: fills slots, reads back, checks one-time codes, calls actions.

The runner never decides *whether* a message belongs to the flow (the dialogue manager does);
it is told what the message is for and advances until the flow needs the customer again.
Money moves and card changes only after a yes to a read-back of exactly these values: a slot
changed after the yes (a correction, a replayed message) voids it and the read-back repeats.
"""

from __future__ import annotations

from assistant.dialogue import entities as ent
from assistant.dialogue.actions import CustomerData
from assistant.dialogue.flow_reply import ActionEvent, FlowReply, ReplyBuilder, digest, template_values
from assistant.dialogue.flows import render
from assistant.dialogue.slots import SlotRead, read_slot
from assistant.dialogue.state import FlowState
from assistant.dialogue.steps import TALK_TO_AGENT, YES_NO, StepRunner
from assistant.i18n import t

__all__ = ["ActionEvent", "FlowReply", "FlowRunner"]

MAX_CODE_TRIES = 3


class FlowRunner(StepRunner):
    """The turns of a flow: start, fill, confirm, code, reprompt, cancel; `StepRunner` runs its steps."""

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
        out = ReplyBuilder(data=data)
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
        out = ReplyBuilder(data=data)
        awaited = self.awaited_slot(state)
        if awaited and awaited not in reads:
            return await self.reprompt(state, customer_id, problem=None)
        if awaited and reads[awaited].problem and not reads[awaited].found:
            return await self.reprompt(state, customer_id, problem=reads[awaited].problem, options=reads[awaited].options)
        state = self._apply(state, reads, out, quiet=False)
        return await self._advance(flow, state.but(retries=0), customer_id, out)

    async def confirm(self, state: FlowState, customer_id: str | None) -> FlowReply:
        flow = self.flows[state.flow]
        out = ReplyBuilder()
        out.events.append(ActionEvent("confirmed", state.flow, self._public(state)))
        state = state.but(confirmed=digest(state.slots), awaiting=None, step=self._next(flow, flow.step(state.step)) or state.step)
        return await self._advance(flow, state, customer_id, out)

    async def code(self, state: FlowState, text: str, customer_id: str | None) -> FlowReply:
        flow = self.flows[state.flow]
        digits = ent.parse_digits(text, length=(4, 8))
        if digits is None:
            return await self.reprompt(state, customer_id, problem=t("flow.code_unreadable"))
        checked = await self.actions.check_code(customer_id, digits, state.results.get("otp_id"))
        out = ReplyBuilder()
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
        out = ReplyBuilder()
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
    def _apply(self, state: FlowState, reads: dict[str, SlotRead], out: ReplyBuilder, *, quiet: bool) -> FlowState:
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
