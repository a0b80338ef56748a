"""Self-service turns: builds the turn's facts, asks the dialogue manager for a route, runs it.

`SelfService.turn` answers None when the turn belongs to the knowledge-base path; otherwise a
`FlowOutcome` the pipeline turns into a Reply (or a KB answer followed by the flow's question,
or a hand-off whose ticket carries the flow state).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from assistant.core.events import FlowInfo
from assistant.core.questions import asks_about_rule, asks_for_figure
from assistant.dialogue import entities as ent
from assistant.dialogue.actions import CustomerData, FlowActions, parts_for
from assistant.dialogue.manager import Route, TurnFacts, decide
from assistant.dialogue.matcher import STRONG_EXAMPLE, FlowMatch, FlowMatcher
from assistant.dialogue.runner import ActionEvent, FlowReply, FlowRunner
from assistant.dialogue.state import DialogueContext, DialogueStore, FlowState
from assistant.i18n import t

STRONG_HUMAN = 0.9  # p(asks for a person) above which the request wins over anything a flow could read
SWITCH_MARGIN = 0.05  # inside a flow, a message must match another flow this much more clearly to switch
# Phone and lobby-robot customers sign in with a customer number and phone PIN on a keypad (the phone's,
# or the robot's screen): the channel adds the keypad prompt (assistant/channels/keypad.py, robot.py).
SIGN_IN = {"voice": t("sign_in.needed_voice"), "robot": t("sign_in.needed_robot")}
SIGN_IN_DEFAULT = t("sign_in.needed_web")  # its {title}: the flow that waits


def _named_flow(route: Route) -> str:
    """The flow a verify or flow_start route names (decide() always sets it)."""
    if route.flow is None:
        raise ValueError(f"a {route.kind} route without a flow")
    return route.flow


@dataclass(frozen=True, slots=True)
class FlowOutcome:
    route: Route
    text: str = ""
    suggestions: tuple[str, ...] = ()
    kb_question: str | None = None  # answer this from the knowledge base (cited) before `text`
    handoff: str | None = None  # a reason: open a ticket, with `flow_summary` for the agent
    flow_summary: dict | None = None
    events: tuple[ActionEvent, ...] = ()
    customer_id: str | None = None
    flow: FlowInfo | None = None  # the flow in progress after this turn
    outcome: str = "pending"  # how the route's flow ended on this turn: pending | completed | cancelled | failed | handoff


class SelfService:
    def __init__(self, *, runner: FlowRunner, matcher: FlowMatcher, store: DialogueStore, faq_threshold: float) -> None:
        """`faq_threshold`: a message this close to an FAQ question is answered by it for a customer who is
        not signed in ("when will my card arrive?"), rather than asked to sign in for the flow."""
        self.runner, self.matcher, self.store, self.faq_threshold = runner, matcher, store, faq_threshold

    @property
    def actions(self) -> FlowActions:
        return self.runner.actions

    async def verified(self, cid: str, customer_id: str, method: str, *, resume: bool = True) -> str | None:
        """Record a proven identity. A different customer than before resets the flow; a flow that was
        waiting for the sign-in starts (`resume`; else it is dropped). Returns what to tell the customer, if anything."""
        ctx = await self.store.aload(cid)
        note = None
        flow = ctx.flow
        if ctx.customer_id not in (None, customer_id):
            flow, note = None, t("flow.other_customer")
        if not resume and flow is not None and flow.awaiting == "identity":
            flow = None
        ctx = replace(ctx, customer_id=customer_id, verified_by=method, verified_at=datetime.now(UTC), flow=flow)
        if flow is not None and flow.awaiting == "identity":
            data = await self.customer_data(cid, customer_id, {flow.flow})
            reply = await self.runner.start(flow.flow, flow.results.get("asked", ""), customer_id, data=data)
            ctx = replace(ctx, flow=reply.state)
            note = reply.text
        await self.store.asave(ctx)
        return note

    async def current(self, cid: str) -> tuple[str | None, FlowInfo | None]:
        """The verified customer and the flow in progress (for replies made outside the flow)."""
        ctx = await self.store.aload(cid)
        return ctx.customer_id, self.info(ctx.flow)

    async def turn(self, *, cid: str, text: str, vector: np.ndarray, intent: str | None, confidence: float,
                   human: float | None, faq_score: float, channel: str, raw: str | None = None,
                   urgent: bool = False) -> FlowOutcome | None:
        """`text` is redacted; `raw` (what the customer typed) is read only by contact slots and codes.
        `urgent`: a lost card or fraud, which a customer not signed in gets help with now (the answer and a
        person offered) rather than a request to sign in first.
        `human`: how sure the classifier is that the customer asks for a person (None: it did not fire);
        `faq_score`: the message's similarity to the nearest FAQ question."""
        ctx = await self.store.aload(cid)
        data = CustomerData()
        if ctx.customer_id:  # the lists of the flows this turn can probe or start, not every flow's
            flows = self.matcher.candidates(vector, intent) | ({ctx.flow.flow} if ctx.flow else set())
            data = await self.customer_data(cid, ctx.customer_id, flows)
        facts, reads = self._facts(ctx, text, vector, intent, confidence, human, faq_score, data, raw, urgent)
        route = decide(facts)
        if route.kind == "knowledge":
            return None
        flow_state, outcome = await self._run(route, ctx, text, reads, channel, data, raw)
        if flow_state is not ctx.flow:
            await self.store.asave(replace(ctx, flow=flow_state))
        return replace(outcome, flow=self.info(flow_state))

    async def customer_data(self, cid: str, customer_id: str, flows: set[str]) -> CustomerData:
        """The customer's lists that reading these flows' slots needs (none: the bank is not asked)."""
        needs = parts_for(slot.type for name in flows for slot in self.runner.flows[name].slots.values())
        return await self.actions.customer(customer_id, needs, conversation=cid)

    def info(self, state: FlowState | None) -> FlowInfo | None:
        if state is None:
            return None
        return FlowInfo(state.flow, state.awaiting, self.runner.awaited_slot(state))

    def match(self, text: str, vector: np.ndarray, intent: str | None, confidence: float, faq_score: float,
              data: CustomerData, *, in_flow: bool = False) -> FlowMatch | None:
        """The flow this message asks for (assistant/dialogue/matcher.py), with this turn's evidence."""

        def evidence(flow: str) -> bool:
            fresh = FlowState(flow=flow, step=self.runner.flows[flow].steps[0].id)
            return any(r.found for r in self.runner.probe(fresh, text, data).values())

        # Only a question competes with the FAQ: "how do I freeze my card?" may want the how-to, while
        # "freeze my debit card" asks the assistant to do it, however close an FAQ's wording is.
        return self.matcher.match(vector, intent, confidence, faq_score=faq_score if is_question(text) else 0.0,
                                  evidence=evidence, margin=SWITCH_MARGIN if in_flow else 0.0,
                                  about_rules=about_rules(text), in_flow=in_flow)

    def _facts(self, ctx: DialogueContext, text: str, vector: np.ndarray, intent: str | None, confidence: float,
               human: float | None, faq_score: float, data: CustomerData, raw: str | None, urgent: bool):
        state = ctx.flow
        reads = self.runner.probe(state, text, data, raw) if state and state.awaiting != "identity" else {}
        fills = frozenset(n for n, r in reads.items() if r.found)
        changes = frozenset(n for n in fills if state and n in state.slots and state.slots[n] != reads[n].value)

        question = is_question(text)
        match = self.match(text, vector, intent, confidence, faq_score, data, in_flow=state is not None)
        new_flow = match.flow if match else None
        facts = TurnFacts(
            active_flow=state.flow if state else None, awaiting=state.awaiting if state else None,
            awaited_slot=self.runner.awaited_slot(state) if state else None, fills=fills,
            problems=frozenset(n for n, r in reads.items() if r.problem and not r.found), changes=changes,
            cancel=ent.is_cancel(text), yes_no=ent.parse_yes_no(text),
            digits=ent.parse_digits(raw or text, length=(4, 8)) is not None, new_flow=new_flow,
            new_flow_requires_identity=self.runner.flows[new_flow].requires_identity if new_flow else True,
            new_flow_worded=match is not None and match.by == "examples" and match.score >= STRONG_EXAMPLE,
            urgent=urgent, faq_hit=faq_score >= self.faq_threshold, question_form=question,
            verified=ctx.verified, human_request=human is not None and human >= STRONG_HUMAN,
            human_weak=human is not None and human < STRONG_HUMAN,
            # a question that restates a value already held ("will my debit card still work?") is still a question
            question=not changes and (question or asks_for_figure(text)) and
            not (state is not None and self.runner.awaited_slot(state) in fills),
        )
        return facts, reads

    async def _run(self, route: Route, ctx: DialogueContext, text: str, reads, channel: str, data: CustomerData,
                   raw: str | None):
        state, customer, run = ctx.flow, ctx.customer_id, self.runner
        if route.kind == "handoff":
            summary = _summary(state) if state else None
            return None, FlowOutcome(route, handoff=route.reason, flow_summary=summary, customer_id=customer,
                                     outcome="handoff" if state else "pending")
        if route.kind == "verify":
            flow = _named_flow(route)
            waiting = FlowState(flow=flow, step=run.flows[flow].steps[0].id, awaiting="identity",
                                results={"asked": text[:500]})
            title = run.flows[flow].title
            return waiting, FlowOutcome(route, SIGN_IN.get(channel, SIGN_IN_DEFAULT).format(title=title))
        if route.kind == "flow_start":
            flow = _named_flow(route)
            before = t("flow.set_aside", title=run.flows[state.flow].title) if state and state.flow != flow else ""
            reply = await run.start(flow, text, customer, data=data, raw=raw)
            return reply.state, self._outcome(route, reply, customer, state, before)
        assert state is not None  # every other route is about the flow in progress
        if route.kind == "digression":
            prompt, suggestions = run.prompt(state)
            back = t("flow.back_to", title=run.flows[state.flow].title, prompt=prompt)
            return state, FlowOutcome(route, back, suggestions, kb_question=text, customer_id=customer)
        if route.kind == "cancel":
            reply = run.cancel(state)
        elif route.kind == "deny":
            reply = run.cancel(state, why=t("flow.nothing_done"))
        elif route.kind == "confirm":
            reply = await run.confirm(state, customer)
        elif route.kind == "code":  # read from what was typed: redaction masks "the code is 552199"; never stored
            reply = await run.code(state, raw or text, customer)
        elif route.kind in ("slot_fill", "slot_correct"):
            reply = await run.fill(state, text, customer, data=data, raw=raw)
        else:  # reprompt
            awaited = run.awaited_slot(state)
            read = reads.get(awaited) if awaited else None
            reply = await run.reprompt(state, customer, problem=read.problem if read else None,
                                       options=read.options if read else ())
        return reply.state, self._outcome(route, reply, customer, state)

    @staticmethod
    def _outcome(route: Route, reply: FlowReply, customer: str | None, state: FlowState | None,
                 before: str = "") -> FlowOutcome:
        summary = _summary(state) if reply.handoff and state else None
        return FlowOutcome(route, (before + reply.text).strip(), reply.suggestions, kb_question=reply.kb_question,
                           handoff=reply.handoff, events=reply.events, customer_id=customer, flow_summary=summary,
                           outcome=reply.outcome)


_TERMS_WORDS = frozenset({"fee", "fees", "rate", "rates", "apy", "apr", "limit", "limits", "cost", "costs", "penalty",
                          "interest", "minimum", "maximum"})


def about_rules(text: str) -> bool:
    """A question after what something costs or what its terms are ("what is the overdraft fee"), as
    opposed to one after the customer's own card or payment ("when will my card arrive?")."""
    words = {w.strip("?.,!'\"") for w in text.lower().split()}
    return is_question(text) and bool(words & _TERMS_WORDS)


_QUESTION_WORDS = frozenset({"how", "what", "what's", "whats", "when", "where", "why", "which", "who", "can", "could",
                             "is", "are", "do", "does", "will", "should", "may"})


def is_question(text: str) -> bool:
    """A question to the assistant ("how do I ...", "can I ...?"), not a request to act ("freeze my card")."""
    first = text.strip().lower().split(maxsplit=1)[:1]
    return text.rstrip().endswith("?") or bool(first and first[0] in _QUESTION_WORDS) or asks_about_rule(text)


def _summary(state: FlowState) -> dict:
    """What an agent taking over sees: the flow, its step, and the values collected (labels only)."""
    return {"flow": state.flow, "step": state.step, "awaiting": state.awaiting,
            "slots": {k: v.get("label") if isinstance(v, dict) else v for k, v in state.slots.items()},
            "done": {k: v for k, v in state.results.items() if k == "reference" and v}}
