"""A self-service outcome as the turn's events: a flow reply, a KB answer then the flow's question
(a digression, or a flow's `answer` step), or a hand-off whose ticket says what the flow collected."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

from assistant.core.events import Event, FlowInfo, IntentInfo, Reply, RouteInfo
from assistant.dialogue.service import FlowOutcome

AnswerKb = Callable[[str], AsyncIterator[Event]]
HandOff = Callable[[str, str | None], Awaitable[Reply]]


def flow_context(summary: dict | None) -> str | None:
    """One line for the agent: the flow, where it stopped, and what the customer had given."""
    if not summary:
        return None
    slots = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in summary["slots"].items()) or "nothing yet"
    done = f"; done, reference {summary['done']['reference']}" if summary.get("done") else ""
    return f"Self-service {summary['flow']} stopped at '{summary['step']}' ({summary['awaiting'] or 'running'}); " \
           f"collected {slots}{done}."


async def flow_events(outcome: FlowOutcome, *, cid: str, intent: IntentInfo | None, flow: FlowInfo | None,
                      answer_kb: AnswerKb, hand_off: HandOff) -> AsyncIterator[Event]:
    route = RouteInfo(outcome.route.kind, outcome.route.reason, outcome.route.flow,
                      None if outcome.outcome == "pending" else outcome.outcome)
    if outcome.handoff:
        started = await hand_off(outcome.handoff, flow_context(outcome.flow_summary))
        text = f"{outcome.text} {started.text}".strip()
        yield replace(started, text=text, route=route, customer_id=outcome.customer_id, actions=outcome.events)
        return
    kb: Reply | None = None
    if outcome.kb_question:
        async for event in answer_kb(outcome.kb_question):
            if isinstance(event, Reply):
                kb = event
            else:
                yield event  # the KB answer streams; the final Reply below supersedes the deltas
    text = " ".join(t for t in ((kb.text if kb else ""), outcome.text) if t)
    suggestions = outcome.suggestions or (kb.suggestions if kb else ())
    yield Reply(cid, text, path="flow", citations=kb.citations if kb else (), intent=intent, suggestions=suggestions,
                retrieved=kb.retrieved if kb else (), guard=kb.guard if kb else None, route=route, flow=flow,
                customer_id=outcome.customer_id, first_token_ms=kb.first_token_ms if kb else None,
                actions=outcome.events)
