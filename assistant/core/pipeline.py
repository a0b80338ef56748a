"""The one turn pipeline every channel runs: redact -> FAQ -> retrieve -> generate -> guard."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from assistant.core.events import (
    Citation, Event, IntentInfo, Reply, ReplyDelta, TurnError, TurnStarted, UserTurn,
)
from assistant.core.figures import unsupported_figures
from assistant.core.grounding import cite, citation_for, extractive_answer
from assistant.core.rewrite import is_follow_up, rewrite_query
from assistant.llm import ChatMessage, GenerationError, GenerationRequest, Generator
from assistant.llm import prompts
from assistant.privacy import redact
from assistant.storage.repository import ConversationRepository, StoredMessage
from knowledge_base import FaqMatch, Passage

log = logging.getLogger(__name__)
_SENTENCE_END = re.compile(r"[.!?](?=\s)")
_FIGURE_START = re.compile(
    r"\d|\$|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|fifty|sixty|seventy|eighty|ninety|hundred)", re.I
)


class UnknownConversation(LookupError):
    pass


class KnowledgeSource(Protocol):
    def embed(self, text: str) -> np.ndarray: ...
    def search(self, query: str, k: int = 5, category: str | None = None, vector: np.ndarray | None = None) -> list[Passage]: ...
    def faq_candidates(self, vector: np.ndarray, n: int = 4) -> list[FaqMatch]: ...


class IntentClassifier(Protocol):
    def classify(self, text: str) -> IntentInfo: ...


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    bank_name: str = "Larkspur Bank"
    retrieval_k: int = 5
    context_k: int = 3
    min_relevance: float = 0.30
    faq_threshold: float = 0.86
    context_margin: float = 0.10
    history_turns: int = 4
    max_new_tokens: int = 160


class _GuardTripped(Exception):
    pass


class DialoguePipeline:
    def __init__(
        self, *, knowledge: KnowledgeSource, generator: Generator, conversations: ConversationRepository,
        config: PipelineConfig, intent: IntentClassifier | None = None,
    ) -> None:
        self.kb, self.generator, self.repo, self.cfg, self.intent = knowledge, generator, conversations, config, intent

    async def run(self, turn: UserTurn) -> AsyncIterator[Event]:
        red = redact(turn.text)  # everything below sees the redacted text only
        cid = await self._conversation(turn)
        yield TurnStarted(cid)
        history = await asyncio.to_thread(self.repo.recent, cid, self.cfg.history_turns * 2)
        await asyncio.to_thread(
            self.repo.add, cid, role="user", text=red.text, channel=turn.channel, pii=red.found or None
        )
        reply: Reply | None = None
        try:
            async for event in self._answer(cid, red.text, history, turn.received_at):
                if isinstance(event, Reply):
                    reply = event
                else:
                    yield event
        except Exception as exc:  # any failure becomes an event and an apology, never a dead turn
            stage = "generate" if isinstance(exc, GenerationError) else "pipeline"
            log.error("turn failed in %s: %s", stage, type(exc).__name__, exc_info=not isinstance(exc, GenerationError))
            yield TurnError(cid, stage, type(exc).__name__)
            reply = Reply(cid, prompts.APOLOGY, path="error", suggestions=(prompts.TALK_TO_AGENT,))
        assert reply is not None
        reply = replace(reply, latency_ms=round((time.perf_counter() - turn.received_at) * 1000, 1))
        mid = await asyncio.to_thread(
            self.repo.add, cid, role="assistant", text=reply.text, channel=turn.channel, path=reply.path,
            intent=reply.intent.name if reply.intent else None,
            intent_confidence=reply.intent.confidence if reply.intent else None,
            citations=[{"doc_id": c.doc_id, "title": c.title, "section": c.section} for c in reply.citations],
            latency_ms=reply.latency_ms, first_token_ms=reply.first_token_ms,
        )
        yield replace(reply, message_id=mid)

    async def _conversation(self, turn: UserTurn) -> str:
        if turn.conversation_id is None:
            return await asyncio.to_thread(self.repo.create, turn.channel)
        if not await asyncio.to_thread(self.repo.exists, turn.conversation_id):
            raise UnknownConversation(turn.conversation_id)
        return turn.conversation_id

    async def _answer(self, cid: str, text: str, history: list[StoredMessage], t0: float) -> AsyncIterator[Event]:
        intent = self.intent.classify(text) if self.intent else None
        vector = await asyncio.to_thread(self.kb.embed, text)
        faqs = self.kb.faq_candidates(vector, 4)
        previous = [m.text for m in history if m.role == "user"]
        if faqs and faqs[0].score >= self.cfg.faq_threshold and not (previous and is_follow_up(text)):
            top = faqs[0].entry
            cites = (Citation(doc_id=top.faq_id, title=top.title, snippet=top.answer[:240], source=top.source, score=round(faqs[0].score, 4)),)
            yield Reply(cid, top.answer, path="faq", citations=cites, intent=intent, suggestions=_related(faqs[1:]))
            return
        query = rewrite_query(text, previous)
        qvec = vector if query == text else await asyncio.to_thread(self.kb.embed, query)
        passages = await asyncio.to_thread(self.kb.search, query, self.cfg.retrieval_k, None, qvec)
        relevant = [p for p in passages if p.score >= self.cfg.min_relevance]
        if not relevant:
            yield Reply(cid, prompts.DONT_KNOW, path="no_answer", intent=intent, suggestions=(prompts.TALK_TO_AGENT,))
            return
        # Only passages nearly as relevant as the best: each extra passage costs prefill time.
        context = [p for p in relevant if p.score >= relevant[0].score - self.cfg.context_margin][: self.cfg.context_k]
        request = self._request(query, context)
        emitted: list[str] = []
        first_token_ms: float | None = None
        try:
            async for piece in self._guarded(request, context):
                if first_token_ms is None:
                    first_token_ms = round((time.perf_counter() - t0) * 1000, 1)
                emitted.append(piece)
                yield ReplyDelta(cid, piece)
        except _GuardTripped as tripped:
            log.info("grounding guard replaced a generated reply (unsupported figures: %s)", tripped)
            answer, cites = extractive_answer(query, context)
            yield Reply(cid, answer, path="extractive", citations=cites, intent=intent,
                        suggestions=_related(faqs), first_token_ms=first_token_ms)
            return
        answer = "".join(emitted).strip()
        if not answer:
            answer, cites = extractive_answer(query, context)
            yield Reply(cid, answer, path="extractive", citations=cites, intent=intent, suggestions=_related(faqs))
            return
        yield Reply(cid, answer, path="generated", citations=cite(answer, context), intent=intent,
                    suggestions=_related(faqs), first_token_ms=first_token_ms)

    def system_prompt(self) -> str:
        return prompts.SYSTEM_PROMPT.format(bank_name=self.cfg.bank_name)

    def _request(self, question: str, context: list[Passage]) -> GenerationRequest:
        """System prompt + passages + the (self-contained) question.

        Earlier turns reach the model only through the rewritten question: on a CPU every
        prompt token costs prefill time before the first word can stream.
        """
        passages = "\n".join(
            prompts.PASSAGE_TEMPLATE.format(n=i + 1, title=p.title, section=p.section or "overview", text=_trim(p.text))
            for i, p in enumerate(context)
        )
        return GenerationRequest(
            messages=(
                ChatMessage("system", self.system_prompt()),
                ChatMessage("user", prompts.CONTEXT_TEMPLATE.format(passages=passages, question=question)),
            ),
            max_new_tokens=self.cfg.max_new_tokens,
        )

    async def _guarded(self, request: GenerationRequest, context: list[Passage]) -> AsyncIterator[str]:
        """Stream the model's text, holding back any sentence with a figure until it is verified.

        A figure reaches the customer only after the guard found it in the cited passages.
        """
        evidence = [p.text for p in context] + [p.title for p in context]
        full, done = "", 0

        def verified(sentence: str) -> str:
            bad = unsupported_figures(sentence, evidence)
            if bad:
                raise _GuardTripped(", ".join(bad))
            return sentence

        async for piece in self.generator.stream(request):
            full += piece
            while True:
                pending = full[done:]
                end = _SENTENCE_END.search(pending)
                if end:
                    out = verified(pending[: end.end()])
                    done += len(out)
                    if out.strip():
                        yield out
                    continue
                fig = _FIGURE_START.search(pending)
                safe = pending if fig is None else pending[: fig.start()]
                if safe and not full[: done + len(safe)].strip() == "":
                    done += len(safe)
                    yield safe
                break
        tail = full[done:]
        if tail.strip():
            yield verified(tail)


def _trim(text: str, limit: int = 500) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + " …"


def _related(faqs: list[FaqMatch], n: int = 3, floor: float = 0.45) -> tuple[str, ...]:
    return tuple(f.entry.title for f in faqs if f.score >= floor)[:n]


async def complete(pipeline: DialoguePipeline, turn: UserTurn) -> Reply:
    """Run a turn to its final Reply (for channels that do not stream)."""
    reply = None
    async for event in pipeline.run(turn):
        if isinstance(event, Reply):
            reply = event
    assert reply is not None
    return reply
