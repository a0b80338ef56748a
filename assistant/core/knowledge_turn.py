"""The knowledge path of a turn: its facts gathered, the dialogue manager's route, that route executed.

facts (screen, hand-off policy, FAQ match, the question's wording) -> `decide_knowledge` -> when the
route is "retrieve": retrieval, its facts, `decide_knowledge` again -> one small executor per route.
Every reply records its route {kind, reason} (assistant/dialogue/manager.py `recorded`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace

import numpy as np

from assistant.core.answering import Answerer, Retrieval
from assistant.core.events import Event, HandoffInfo, IntentInfo, Reply, RouteInfo
from assistant.core.guardrails import Verdict
from assistant.core.questions import asks_about_rule, asks_for_figure, asks_meaning, asks_yes_no
from assistant.dialogue.manager import Found, KnowledgeFacts, Route, decide_knowledge, recorded
from assistant.handoff.policy import Decision, HandoffPolicy, NluSignals
from assistant.llm import prompts
from assistant.storage.repository import StoredMessage
from knowledge_base import FaqMatch

COUNTABLE = {"account", "card", "loan", "plan", "policy", "bond", "wallet", "fund", "certificate", "program", "vault", "service"}
ASSISTANT_INTENTS = {"human_agent", "complaint", "greeting", "goodbye", "thanks", "out_of_scope"}
ANSWERS = {"faq", "kb_quote", "kb_generate"}  # the routes whose reply may carry an offer of a person


def streak(history: list[StoredMessage], paths: set[str]) -> int:
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


@dataclass
class KnowledgeTurn:
    """One message on the knowledge path and what its executors need; `hand_off(reason)` opens a ticket."""

    answerer: Answerer
    policy: HandoffPolicy
    hand_off: Callable[[str], Awaitable[Reply]]
    cid: str
    text: str
    vector: np.ndarray
    history: list[StoredMessage]
    nlu: NluSignals | None
    intent: IntentInfo | None
    received_at: float
    attack: Verdict | None
    previous: list[str] = field(init=False)  # the customer's earlier messages, oldest first
    faqs: list[FaqMatch] = field(init=False)
    faq: Reply | None = field(init=False)
    facts: KnowledgeFacts = field(init=False)

    def __post_init__(self) -> None:
        self.previous = [m.text for m in self.history if m.role == "user"]
        self.faqs = self.answerer.kb.faq_candidates(self.vector, 4)
        self.faq = self.answerer.faq_reply(self.cid, self.text, self.faqs, self.previous, self.intent, self.vector)
        decision = self.policy.before_retrieval(self.nlu) if self.nlu is not None else Decision("answer")
        doubt = self.policy.after_low_confidence(streak(self.history, {"clarify"}))
        self.facts = KnowledgeFacts(
            attack=self.attack.category if self.attack is not None else None,
            nlu_route=getattr(self.nlu, "route", "") or "", policy=decision.action, policy_reason=decision.reason,
            offer_agent=decision.offer_agent, faq_first=decision.faq_first, kb_first=decision.kb_first,
            faq=self.faq is not None, asks_figure=asks_for_figure(self.text), asks_rule=asks_about_rule(self.text),
            doubt_reason=doubt.reason, doubt_offer=doubt.offer_agent,
        )

    async def run(self) -> AsyncIterator[Event]:
        route, found = decide_knowledge(self.facts), None
        if route.kind == "retrieve":
            found = await self.answerer.retrieve(self.text, self.previous, self.vector, self.faqs, last_cited(self.history))
            route = decide_knowledge(self.facts, self.found_facts(found))
            if self.facts.policy == "refuse" and route.kind != "refuse":  # in scope after all: the best banking intent
                best = next(((n, c) for n, c in getattr(self.nlu, "top", ()) if n not in ASSISTANT_INTENTS), None)
                self.intent = IntentInfo(best[0], round(float(best[1]), 4)) if best else self.intent
        info = RouteInfo(*recorded(route))
        async for event in self.execute(route, found):
            yield replace(offered(event, route) if route.kind in ANSWERS else event, route=info) \
                if isinstance(event, Reply) else event

    def found_facts(self, found: Retrieval) -> Found:
        """Retrieval's facts, as the manager reads them."""
        cfg, query = self.answerer.cfg, found.query
        context = self.answerer.context(found) if found.passages else []
        return Found(
            passages=bool(found.passages), kb_knows=found.best_score >= cfg.scope_override_relevance,
            leans_on_history=found.leans_on_history, on_topic=bool(found.topic),
            low_confidence=self.nlu is not None and self.policy.is_low_confidence(self.nlu, found.best_score),
            quote_allowed=cfg.quote_figure_questions, asks_figure=asks_for_figure(query), asks_yes_no=asks_yes_no(query),
            asks_meaning=asks_meaning(query), quoted_category=bool(context) and context[0].category in cfg.quote_categories,
        )

    async def execute(self, route: Route, found: Retrieval | None) -> AsyncIterator[Event]:
        """The route's reply (a KB answer streams its deltas first)."""
        if route.kind in ("kb_quote", "kb_generate"):
            assert found is not None
            answer = self.answerer.quote(self.cid, found, self.intent) if route.kind == "kb_quote" \
                else self.answerer.generate(self.cid, found, self.received_at, self.intent)
            async for event in answer:
                yield event
        elif route.kind == "handoff":
            yield await self.hand_off(route.reason)
        else:
            yield self.reply(route)

    def reply(self, route: Route) -> Reply:
        """The reply of a route that needs no model and no ticket."""
        cid, intent = self.cid, self.intent
        if route.kind == "faq":
            assert self.faq is not None  # the manager chooses it only when one matched
            return self.faq
        if route.kind == "refuse":
            if self.attack is not None:  # refused before anything reaches retrieval or the model
                return Reply(cid, self.attack.reply, path="refused", intent=intent, handoff=HandoffInfo(False, route.reason))
            return Reply(cid, prompts.OUT_OF_SCOPE, path="refused", intent=intent, handoff=None)
        if route.kind in ("rephrase", "advice", "not_offered"):  # mashing, advice, a product we do not sell
            return Reply(cid, declined_text(self.nlu), path="rephrase" if route.kind == "rephrase" else "declined",
                         intent=intent, handoff=HandoffInfo(False, route.reason))
        if route.kind == "small_talk":
            return Reply(cid, prompts.SMALL_TALK[route.reason], path="small_talk", intent=intent)
        if route.kind == "clarify":  # the top candidates; a person offered first after repeated doubt
            topics = tuple(topic_label(n) for n, _ in getattr(self.nlu, "top", ()) if n not in ASSISTANT_INTENTS)[:3]
            offer = route.offer is not None
            chips = (prompts.TALK_TO_AGENT, *topics) if offer else (*topics, prompts.TALK_TO_AGENT)
            return Reply(cid, prompts.CLARIFY, path="clarify", intent=intent, suggestions=chips, offer_agent=offer,
                         handoff=HandoffInfo(False, route.reason))
        return Reply(cid, prompts.DONT_KNOW, path="no_answer", intent=intent, suggestions=(prompts.TALK_TO_AGENT,))


def offered(reply: Reply, route: Route) -> Reply:
    """An answer that also offers a person right away (an urgent topic, a hand-off the answer replaced)."""
    if route.offer is None:
        return reply
    return replace(reply, text=f"{reply.text} {prompts.OFFER_AGENT}".strip(),
                   suggestions=(prompts.TALK_TO_AGENT, *reply.suggestions),
                   handoff=HandoffInfo(False, route.offer), offer_agent=True)


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
