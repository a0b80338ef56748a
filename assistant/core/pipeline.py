"""The one turn pipeline every channel runs.

redact -> conversation state -> embed + NLU -> a human holds it? relay -> the dialogue manager:
a flow step (assistant/dialogue/), or the knowledge path: screens -> policy (hand off, small
talk, refuse) -> FAQ -> retrieve -> clarify if unsure -> quote or generate under the guard -> store.
"""

from __future__ import annotations

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
from assistant.core.questions import asks_about_rule, asks_for_figure
from assistant.core.readings import visible
from assistant.dialogue.service import SelfService
from assistant.handoff.policy import Decision, HandoffPolicy, NluSignals
from assistant.llm import GenerationError, Generator, prompts
from assistant.privacy import redact
from assistant.storage.repository import AuditEntry, ConversationRepository, StoredMessage

log = logging.getLogger(__name__)
FAILED_PATHS = {"no_answer", "clarify", "error", "refused"}
COUNTABLE = {"account", "card", "loan", "plan", "policy", "bond", "wallet", "fund", "certificate", "program", "vault", "service"}
ASSISTANT_INTENTS = {"human_agent", "complaint", "greeting", "goodbye", "thanks", "out_of_scope"}


class UnknownConversation(LookupError):
    pass


class TurnRunner(Protocol):
    """What a channel needs of the dialogue core: a turn in, its events out (DialoguePipeline, ThrottledPipeline)."""

    def run(self, turn: UserTurn) -> AsyncIterator[Event]: ...


class NluClassifier(Protocol):
    def classify(self, text: str, *, failed_turns: int = 0, embedding: np.ndarray | None = None) -> NluSignals: ...


class Handoff(Protocol):
    async def request(self, conversation_id: str, *, reason: str, channel: str, sentiment: str | None = None,
                      branch_id: str | None = None, context: str | None = None): ...

    async def customer_message(self, conversation_id: str, text: str, message_id: int): ...


def _streak(history: list[StoredMessage], paths: set[str]) -> int:
    """How many of the latest assistant replies, in a row, took one of these paths."""
    n = 0
    for m in reversed(history):
        if m.role != "assistant":
            continue
        if m.path not in paths:
            break
        n += 1
    return n


def last_cited(history: list[StoredMessage]) -> tuple[str, ...]:
    """The documents the bot's last reply cited: what a follow-up is likely about."""
    for m in reversed(history):
        if m.role == "assistant":
            return tuple(dict.fromkeys(c["doc_id"] for c in m.citations or () if isinstance(c, dict) and c.get("doc_id")))
    return ()


def topic_label(intent: str) -> str:
    return intent.replace("_", " ").rstrip("?").capitalize()


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
        # over its vector take a fraction of a millisecond, so they run here.
        vector = await self._vector(red.text)
        nlu = self.nlu.classify(red.text, failed_turns=_streak(history, FAILED_PATHS), embedding=vector) if self.nlu else None
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
        reply = replace(reply, latency_ms=round((time.perf_counter() - turn.received_at) * 1000, 1))
        if self.metrics is not None:
            self.metrics.observe_reply(turn.channel, reply)
        # The reply and its audit record: one transaction, so neither is ever stored without the other.
        audit = AuditEntry(self.audit, "turn", self._audit_payload(turn, red, reply, nlu)) if self.audit is not None else None
        mid = await self.repo.add_async(
            cid, role="assistant", text=reply.text, channel=turn.channel, path=reply.path,
            intent=reply.intent.name if reply.intent else None,
            intent_confidence=reply.intent.confidence if reply.intent else None,
            citations=[{"doc_id": c.doc_id, "title": c.title, "section": c.section} for c in reply.citations],
            latency_ms=reply.latency_ms, first_token_ms=reply.first_token_ms, audit=audit, **route_columns(reply),
        )
        yield replace(reply, message_id=mid)

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
        """The dialogue manager's route (assistant/dialogue/manager.py): a flow step, or the knowledge path."""
        outcome = None
        # Advice and products the bank does not offer have routes of their own (the knowledge path's).
        own_route = getattr(nlu, "route", "") in ("advice", "not_offered")
        refused = attack is not None
        if self.selfservice is not None and turn.customer_id is not None and (refused or own_route):
            # The identity holds even when this message gets another route; a flow waiting for it is dropped.
            await self.selfservice.verified(cid, turn.customer_id, "assertion", resume=False)
        if self.selfservice is not None and not refused and not own_route:
            if turn.customer_id is not None:
                note = await self.selfservice.verified(cid, turn.customer_id, "assertion")
                if note:  # a flow that waited for the sign-in carries on with this turn's reply
                    yield Reply(cid, note, path="flow", intent=intent, route=RouteInfo("verified", "identity proven"),
                                customer_id=turn.customer_id)
                    return
            human = None
            if nlu is not None and (nlu.human_request or nlu.frustration >= self.policy.frustration_threshold):
                human = 1.0 if nlu.frustration >= self.policy.frustration_threshold else float(nlu.human_score)
            faq = self.answerer.kb.faq_candidates(vector, 1)
            outcome = await self.selfservice.turn(cid=cid, text=text, vector=vector, intent=nlu.intent if nlu else None,
                                                  confidence=float(nlu.confidence) if nlu else 0.0, human=human,
                                                  faq_score=faq[0].score if faq else 0.0, channel=turn.channel,
                                                  raw=visible(turn.text), urgent=bool(getattr(nlu, "offer_agent", False)))
        if outcome is None:
            customer, flow = await self.selfservice.current(cid) if self.selfservice is not None else (None, None)
            async for event in self._respond(cid, text, vector, history, nlu, intent, turn, attack):
                yield replace(event, route=RouteInfo("knowledge", event.path), customer_id=customer, flow=flow) \
                    if isinstance(event, Reply) else event
            return

        async def answer_kb(question: str) -> AsyncIterator[Event]:
            vec = vector if question == text else await self._vector(question)
            async for event in self._respond(cid, question, vec, history, nlu, intent, turn,
                                             attack if question == text else screen_input(question)):
                yield event

        async def hand_off(reason: str, context: str | None) -> Reply:
            return await self._hand_off(cid, reason, turn, nlu, intent, context=context)

        offer = bool(getattr(nlu, "offer_agent", False)) and outcome.route.kind == "flow_start"  # a lost card, fraud
        async for event in flow_events(outcome, cid=cid, intent=intent, flow=outcome.flow, answer_kb=answer_kb,
                                       hand_off=hand_off):
            if offer and isinstance(event, Reply):
                event = replace(event, offer_agent=True, suggestions=(*event.suggestions, prompts.TALK_TO_AGENT))
            yield event

    async def _respond(self, cid: str, text: str, vector: np.ndarray, history: list[StoredMessage], nlu: NluSignals | None,
                       intent: IntentInfo | None, turn: UserTurn, attack: Verdict | None) -> AsyncIterator[Event]:
        if attack is not None:  # refused before anything reaches retrieval or the model
            yield Reply(cid, attack.reply, path="refused", intent=intent,
                        handoff=HandoffInfo(False, f"guardrail: {attack.category}"))
            return
        decision = self.policy.before_retrieval(nlu) if nlu is not None else Decision("answer")
        if decision.action in ("rephrase", "decline"):  # mashing, advice, a product we do not sell
            yield Reply(cid, declined_text(nlu), path="rephrase" if decision.action == "rephrase" else "declined",
                        intent=intent, handoff=HandoffInfo(False, decision.reason))
            return
        previous = [m.text for m in history if m.role == "user"]
        topic = last_cited(history)
        faqs = self.answerer.kb.faq_candidates(vector, 4)
        faq = self.answerer.faq_reply(cid, text, faqs, previous, intent)
        if decision.action == "handoff" and decision.faq_first and faq is not None:
            yield self._offer(faq, replace(decision, action="answer", offer_agent=True))
            return
        found = None
        if decision.action == "handoff":
            if (decision.faq_first and asks_for_figure(text)) or (decision.kb_first and asks_about_rule(text)):
                # "How long do I have to cancel a remittance?" or "can I cancel it after I send it?"
                # asks about a rule, not for the action itself ("cancel my transfer"): when the
                # knowledge base answers it, the customer gets that answer and the offer to connect,
                # as an FAQ answer would (docs/decisions/0007-scope-and-handoff-overrides.md).
                found = await self.answerer.retrieve(text, previous, vector, faqs, topic)
            if found is None or found.best_score < self.answerer.cfg.scope_override_relevance:
                yield await self._hand_off(cid, decision.reason, turn, nlu, intent)
                return
            decision = replace(decision, action="answer", offer_agent=True)
        if faq is not None:  # an approved answer beats a classifier's doubt ("close acount online" is no goodbye)
            yield self._offer(faq, decision)
            return
        if decision.action == "small_talk":
            yield Reply(cid, prompts.SMALL_TALK[decision.reason], path="small_talk", intent=intent)
            return
        found = found or await self.answerer.retrieve(text, previous, vector, faqs, topic)
        if decision.action == "refuse":
            # The scope head learnt banking from BANKING77 (cards, transfers); our KB also knows
            # mortgages, CDs, branches and regulations. A passage this relevant overrules it, and a
            # follow-up ("do saturdays count?") belongs to the conversation's topic
            # (docs/decisions/0007-scope-and-handoff-overrides.md).
            if found.best_score < self.answerer.cfg.scope_override_relevance and not found.leans_on_history:
                yield Reply(cid, prompts.OUT_OF_SCOPE, path="refused", intent=intent, handoff=None)
                return
            decision = Decision("answer")
            best = next(((n, c) for n, c in getattr(nlu, "top", ()) if n not in ASSISTANT_INTENTS), None)
            intent = IntentInfo(best[0], round(float(best[1]), 4)) if best else intent
        # A follow-up that stays with the documents of the last reply needs no clarifying question:
        # the conversation says what "it" is ("once they put it in, do they have to let me know?").
        if nlu is not None and not found.topic and self.policy.is_low_confidence(nlu, found.best_score):
            # Low confidence alone never hands over: the top candidates, and a person offered first after repeats.
            follow = self.policy.after_low_confidence(_streak(history, {"clarify"}))
            topics = tuple(topic_label(name) for name, _ in getattr(nlu, "top", ()) if name not in ASSISTANT_INTENTS)[:3]
            chips = (prompts.TALK_TO_AGENT, *topics) if follow.offer_agent else (*topics, prompts.TALK_TO_AGENT)
            yield Reply(cid, prompts.CLARIFY, path="clarify", intent=intent, suggestions=chips,
                        offer_agent=follow.offer_agent, handoff=HandoffInfo(False, follow.reason))
            return
        if not found.passages:
            yield Reply(cid, prompts.DONT_KNOW, path="no_answer", intent=intent, suggestions=(prompts.TALK_TO_AGENT,))
            return
        async for event in self.answerer.generate(cid, found, turn.received_at, intent):
            yield self._offer(event, decision) if isinstance(event, Reply) else event

    @staticmethod
    def _offer(reply: Reply, decision: Decision) -> Reply:
        """Urgent topics: the self-service answer and an offer to connect right away."""
        if not decision.offer_agent:
            return reply
        return replace(reply, text=f"{reply.text} {prompts.OFFER_AGENT}".strip(),
                       suggestions=(prompts.TALK_TO_AGENT, *reply.suggestions),
                       handoff=HandoffInfo(False, decision.reason), offer_agent=True)

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


def declined_text(nlu) -> str:
    """The reply of the NLU's own routes: rephrase, advice declined, product not offered."""
    route, reason = getattr(nlu, "route", ""), getattr(nlu, "reason", "")
    if route == "advice":
        return prompts.ADVICE.get(reason.removeprefix("advice: "), prompts.ADVICE["investment"])
    if route == "not_offered":
        product, nearest = reason.removeprefix("not offered: "), getattr(nlu, "nearest_product", "")
        if product.split()[-1] in COUNTABLE:  # "a gold storage account", but "pet insurance"
            product = f"{'an' if product[0] in 'aeiou' else 'a'} {product}"
        return (prompts.NOT_OFFERED if nearest else prompts.NOT_OFFERED_PLAIN).format(product=product, nearest=nearest)
    return prompts.REPHRASE


async def complete(pipeline: TurnRunner, turn: UserTurn) -> Reply:
    """Run a turn to its final Reply (for channels that do not stream)."""
    reply = None
    async for event in pipeline.run(turn):
        if isinstance(event, Reply):
            reply = event
    assert reply is not None
    return reply
