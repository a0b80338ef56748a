"""The one turn pipeline every channel runs.

redact -> conversation state -> embed + NLU -> a human holds it? relay -> the dialogue manager's
routes (assistant/dialogue/manager.py): a flow step (SelfService), or the knowledge path
(core/knowledge_turn.py: FAQ, quoted or generated KB answer, clarify, refuse, small talk, hand-off)
-> store the reply with its route.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, replace
from typing import Protocol

import numpy as np

from assistant.config.answering import DEFAULT_BANK_NAME, AnsweringSettings
from assistant.core.answering import Answerer, KnowledgeSource, Reranker, Retrieval  # noqa: F401 (re-exported)
from assistant.core.events import Event, HandoffInfo, IntentInfo, Reply, RouteInfo, TurnError, TurnStarted, UserTurn
from assistant.core.flow_turns import flow_events
from assistant.core.guardrails import Verdict, screen_input
from assistant.core.knowledge_turn import KnowledgeTurn, streak
from assistant.core.readings import visible
from assistant.dialogue.manager import screened
from assistant.dialogue.service import FlowOutcome, SelfService
from assistant.handoff.policy import HandoffPolicy, NluSignals
from assistant.llm import GenerationError, Generator, prompts
from assistant.privacy import redact
from assistant.storage.repository import AuditEntry, ConversationRepository, StoredMessage

log = logging.getLogger(__name__)
FAILED_PATHS = {"no_answer", "clarify", "error", "refused"}


class UnknownConversation(LookupError):
    pass


class TurnRunner(Protocol):
    """What a channel needs of the dialogue core: a turn in, its events out (DialoguePipeline, ThrottledPipeline)."""

    def run(self, turn: UserTurn) -> AsyncIterator[Event]: ...


class NluClassifier(Protocol):
    def classify(self, text: str, *, failed_turns: int = 0, embedding: np.ndarray | None = None) -> NluSignals: ...

    def wants_second(self, text: str, embedding: np.ndarray) -> bool:
        """Whether classify will ask a slower second encoder (an unsure message): then it runs off the event loop."""
        ...


class Handoff(Protocol):
    async def request(self, conversation_id: str, *, reason: str, channel: str, sentiment: str | None = None,
                      branch_id: str | None = None, context: str | None = None): ...

    async def customer_message(self, conversation_id: str, text: str, message_id: int): ...


class DialoguePipeline:
    def __init__(
        self, *, knowledge: KnowledgeSource, generator: Generator, conversations: ConversationRepository,
        config: AnsweringSettings, nlu: NluClassifier | None = None, policy: HandoffPolicy | None = None,
        handoff: Handoff | None = None, metrics=None, audit=None, reranker: Reranker | None = None,
        selfservice: SelfService | None = None, bank_name: str = DEFAULT_BANK_NAME,
    ) -> None:
        self.answerer = Answerer(knowledge=knowledge, generator=generator, config=config, reranker=reranker,
                                 bank_name=bank_name)
        self.repo, self.cfg, self.nlu, self.handoff = conversations, config, nlu, handoff
        self.policy = policy or HandoffPolicy.load()
        self.metrics = metrics  # assistant.metrics.Metrics, optional
        self.audit = audit  # assistant.audit.AuditLog, optional
        self.selfservice = selfservice  # flows for verified customers (assistant/dialogue/), optional

    def system_prompt(self) -> str:
        return self.answerer.system_prompt()

    async def run(self, turn: UserTurn) -> AsyncIterator[Event]:
        # What a reader sees (full-width folded, zero-width and tag characters dropped), then redacted:
        # everything below sees the redacted text only
        seen = visible(turn.text)
        red = redact(seen)
        # Screened as typed too (never stored or logged): redaction can break up what a disguise hides in
        # digits ("69676e6f7265..." is "ignore" in hex), and invisible tag characters carry text of their own.
        attack = screen_input(red.text) or screen_input(turn.text)
        cid, status, history = await self._conversation(turn)
        # One embedding per turn (cached by the retriever), shared by the classifier, the FAQ match and
        # retrieval. The encoder runs in its own thread and batches concurrent turns; the intent heads
        # over its vector take a fraction of a millisecond, so they run here (an unsure message's second
        # opinion, 45-75 ms of mpnet, in a worker thread).
        vector = await self._vector(red.text)
        nlu = await _understand(self.nlu, red.text, streak(history, FAILED_PATHS), vector) if self.nlu else None
        intent = IntentInfo(nlu.intent, round(float(nlu.confidence), 4)) if nlu else None
        uid = await self.repo.add_async(
            cid, role="user", text=red.text, channel=turn.channel, pii=red.found or None,
            intent=intent.name if intent else None, intent_confidence=intent.confidence if intent else None,
        )
        yield TurnStarted(cid)  # only once the message is stored: "started" acknowledges it
        if status in ("waiting", "agent") and self.handoff is not None:
            # A human holds (or is about to take) this conversation: the bot stays silent.
            ticket = await self.handoff.customer_message(cid, red.text, uid)
            reason = ticket.reason if ticket else "agent"
            yield Reply(cid, "", path="human", intent=intent, handoff=HandoffInfo(True, reason), message_id=uid,
                        latency_ms=round((time.perf_counter() - turn.received_at) * 1000, 1))
            return
        reply: Reply | None = None
        try:
            async for event in self._decide(cid, red.text, vector, history, nlu, intent, turn, attack):
                if isinstance(event, Reply):
                    reply = event
                else:
                    yield event
        except Exception as exc:  # any failure becomes an event and an apology, never a dead turn
            stage = "generate" if isinstance(exc, GenerationError) else "pipeline"
            log.error("turn failed in %s: %s", stage, type(exc).__name__, exc_info=not isinstance(exc, GenerationError))
            if self.metrics is not None:
                self.metrics.errors.labels(stage).inc()
            yield TurnError(cid, stage, type(exc).__name__)
            reply = Reply(cid, prompts.APOLOGY, path="error", intent=intent, suggestions=(prompts.TALK_TO_AGENT,))
        assert reply is not None
        yield await self._store(cid, turn, red, reply, nlu)

    async def _store(self, cid: str, turn: UserTurn, red, reply: Reply, nlu: NluSignals | None) -> Reply:
        """The reply with its latency and message id, stored with its route and audit record in one transaction."""
        reply = replace(reply, latency_ms=round((time.perf_counter() - turn.received_at) * 1000, 1))
        if self.metrics is not None:
            self.metrics.observe_reply(turn.channel, reply)
        audit = AuditEntry(self.audit, "turn", self._audit_payload(turn, red, reply, nlu)) if self.audit is not None else None
        mid = await self.repo.add_async(
            cid, role="assistant", text=reply.text, channel=turn.channel, path=reply.path,
            intent=reply.intent.name if reply.intent else None,
            intent_confidence=reply.intent.confidence if reply.intent else None,
            citations=[{"doc_id": c.doc_id, "title": c.title, "section": c.section} for c in reply.citations],
            latency_ms=reply.latency_ms, first_token_ms=reply.first_token_ms, audit=audit, **route_columns(reply),
        )
        return replace(reply, message_id=mid)

    async def _vector(self, text: str) -> np.ndarray:
        """The int8 graph's vector when it clearly matches an FAQ question, else the exact one.

        The int8 vector (about half the encoder's time) is close enough to the exact one to decide an
        FAQ match well clear of the threshold (`fast_faq_margin`), not for the fine choices past it
        (which intent when unsure, which sentence to quote): those turns pay for the exact vector too.
        Figures: docs/decisions/0008-onnx-int8-query-encoder.md.
        """
        kb = self.answerer.kb
        fast = await kb.aembed(text, fast=True)
        best = kb.faq_candidates(fast, 1)
        if best and best[0].score >= self.cfg.faq_threshold + self.cfg.fast_faq_margin:
            return fast
        return await kb.aembed(text)

    def _audit_payload(self, turn: UserTurn, red, reply: Reply, nlu) -> dict:
        return {
            "channel": turn.channel, "input": red.text, "pii_masked": red.found,
            "intent": reply.intent.name if reply.intent else None,
            "confidence": reply.intent.confidence if reply.intent else None,
            "in_scope": getattr(nlu, "in_scope", None), "path": reply.path,
            "retrieved": list(reply.retrieved), "cited": [c.doc_id for c in reply.citations],
            "model": getattr(self.answerer.generator, "name", "?") if reply.path in ("generated", "extractive") else None,
            "guard": reply.guard or "n/a",
            "route": {"kind": reply.route.kind, "reason": reply.route.reason} if reply.route else None,
            "customer_id": reply.customer_id, "actions": [asdict(a) for a in reply.actions],
            "reply": reply.text, "handoff": {"active": reply.handoff.active, "reason": reply.handoff.reason} if reply.handoff else None,
        }

    async def _conversation(self, turn: UserTurn) -> tuple[str, str, list[StoredMessage]]:
        """The conversation id, its status and recent history (one database read)."""
        if turn.conversation_id is None:
            return await self.repo.create_async(turn.channel), "bot", []
        found = await self.repo.turn_context_async(turn.conversation_id, self.cfg.history_turns * 2)
        if found is None:
            raise UnknownConversation(turn.conversation_id)
        return turn.conversation_id, *found

    async def _decide(self, cid: str, text: str, vector: np.ndarray, history: list[StoredMessage], nlu: NluSignals | None,
                      intent: IntentInfo | None, turn: UserTurn, attack: Verdict | None) -> AsyncIterator[Event]:
        """The dialogue manager's routes (assistant/dialogue/manager.py): a flow step, else the knowledge path."""
        async def hand_off(reason: str) -> Reply:
            return await self._hand_off(cid, reason, turn, nlu, intent)

        knowledge = KnowledgeTurn(self.answerer, self.policy, hand_off, cid, text, vector, history, nlu, intent,
                                  turn.received_at, attack)
        skip, ss = screened(knowledge.facts), self.selfservice
        if ss is not None and turn.customer_id is not None:
            # The identity holds even when this message gets another route; a flow waiting for it is dropped then.
            note = await ss.verified(cid, turn.customer_id, "assertion", resume=not skip)
            if note and not skip:  # a flow that waited for the sign-in carries on with this turn's reply
                yield Reply(cid, note, path="flow", intent=intent, route=RouteInfo("verified", "identity proven"),
                            customer_id=turn.customer_id)
                return
        outcome = None
        if ss is not None and not skip:
            faq_score = knowledge.faqs[0].score if knowledge.faqs else 0.0
            outcome = await ss.turn(cid=cid, text=text, vector=vector, intent=nlu.intent if nlu else None,
                                    confidence=float(nlu.confidence) if nlu else 0.0, human=self._human(nlu),
                                    faq_score=faq_score, channel=turn.channel, raw=visible(turn.text),
                                    urgent=bool(getattr(nlu, "offer_agent", False)))
        if outcome is None:
            customer, flow = await ss.current(cid) if ss is not None else (None, None)
            async for event in knowledge.run():
                yield replace(event, customer_id=customer, flow=flow) if isinstance(event, Reply) else event
            return
        async for event in self._flow_turn(outcome, knowledge, turn):
            yield event

    def _human(self, nlu: NluSignals | None) -> float | None:
        """How sure the NLU is that the customer asks for a person (frustration counts as sure); None: not asked."""
        if nlu is None or not (nlu.human_request or nlu.frustration >= self.policy.frustration_threshold):
            return None
        return 1.0 if nlu.frustration >= self.policy.frustration_threshold else float(nlu.human_score)

    async def _flow_turn(self, outcome: FlowOutcome, knowledge: KnowledgeTurn, turn: UserTurn) -> AsyncIterator[Event]:
        """A flow route's outcome as events: its KB question answered on the knowledge path, its hand-off a ticket."""
        async def answer_kb(question: str) -> AsyncIterator[Event]:
            asked = knowledge if question == knowledge.text else \
                replace(knowledge, text=question, vector=await self._vector(question), attack=screen_input(question))
            async for event in asked.run():
                yield event

        async def hand_off(reason: str, context: str | None) -> Reply:
            return await self._hand_off(knowledge.cid, reason, turn, knowledge.nlu, knowledge.intent, context=context)

        offer = bool(getattr(knowledge.nlu, "offer_agent", False)) and outcome.route.kind == "flow_start"  # a lost card, fraud
        async for event in flow_events(outcome, cid=knowledge.cid, intent=knowledge.intent, flow=outcome.flow,
                                       answer_kb=answer_kb, hand_off=hand_off):
            if offer and isinstance(event, Reply):
                event = replace(event, offer_agent=True, suggestions=(*event.suggestions, prompts.TALK_TO_AGENT))
            yield event

    async def _hand_off(self, cid: str, reason: str, turn: UserTurn, nlu: NluSignals | None, intent: IntentInfo | None,
                        *, context: str | None = None) -> Reply:
        if self.handoff is None:
            return Reply(cid, prompts.NO_AGENTS, path="no_answer", intent=intent)
        started = await self.handoff.request(cid, reason=reason, channel=turn.channel,
                                             sentiment=getattr(nlu, "sentiment", None), branch_id=turn.branch_id,
                                             context=context)
        text = prompts.HANDOFF_STARTED.format(position=started.position, minutes=started.expected_wait_minutes)
        return Reply(cid, text, path="handoff", intent=intent, handoff=HandoffInfo(True, reason),
                     suggestions=(prompts.CANCEL_WAIT,))


def route_columns(reply: Reply) -> dict:
    """The stored reply's dialogue route, its flow and the flow's outcome (for analytics: flows started/completed)."""
    route = reply.route
    if route is None:
        return {}
    return {"route": route.kind[:24], "flow": route.flow, "flow_outcome": route.outcome}


async def complete(pipeline: TurnRunner, turn: UserTurn) -> Reply:
    """Run a turn to its final Reply (for channels that do not stream)."""
    reply = None
    async for event in pipeline.run(turn):
        if isinstance(event, Reply):
            reply = event
    assert reply is not None
    return reply


async def _understand(nlu: NluClassifier, text: str, failed_turns: int, vector: np.ndarray) -> NluSignals:
    """The NLU over the turn's vector: sub-millisecond heads here, an unsure message's second encoder in a thread."""
    if nlu.wants_second(text, vector):
        return await asyncio.to_thread(nlu.classify, text, failed_turns=failed_turns, embedding=vector)
    return nlu.classify(text, failed_turns=failed_turns, embedding=vector)
