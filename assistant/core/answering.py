"""Answer from the knowledge base: FAQ match, retrieval, quoted or grounded generated answers, fallback.

Which of these a turn gets is the dialogue manager's choice (assistant/dialogue/manager.py
`decide_knowledge`); the methods here only execute it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from assistant.config.answering import DEFAULT_BANK_NAME, AnsweringSettings
from assistant.core.events import Citation, Event, IntentInfo, Reply, ReplyDelta
from assistant.core.explain_requests import ExplainRequests
from assistant.core.faq_match import faq_is_asked, related
from assistant.core.grounding import check_reply, cite, declines, extractive_answer, grafted_terms
from assistant.core.guardrails import leaks_system_prompt, sanitize_passage
from assistant.core.outgoing import unsafe_sentence
from assistant.core.questions import asks_for_figure
from assistant.core.rewrite import (
    continues,
    refers_back,
    rewrite_query,
    subject_of,
    swaps_subject,
    with_previous,
)
from assistant.core.stream_guard import GuardTripped, guarded
from assistant.core.subjects import names_nothing, own_words
from assistant.llm import ChatMessage, GenerationError, GenerationRequest, Generator, prompts
from knowledge_base import FaqMatch, Passage
from knowledge_base.figures import figures

log = logging.getLogger(__name__)


class KnowledgeSource(Protocol):
    def embed(self, text: str) -> np.ndarray: ...
    async def aembed(self, text: str, *, fast: bool = False) -> np.ndarray: ...
    def embed_many(self, texts: list[str]) -> np.ndarray: ...
    def search(self, query: str, k: int = 5, category: str | None = None, vector: np.ndarray | None = None) -> list[Passage]: ...
    def faq_candidates(self, vector: np.ndarray, n: int = 4) -> list[FaqMatch]: ...
    def document_passages(self, doc_id: str, vector: np.ndarray) -> list[Passage]: ...
    def knows(self, words: list[str]) -> bool: ...


@dataclass(frozen=True, slots=True)
class Retrieval:
    text: str  # the customer's message
    query: str  # what was searched: the message, or the message read with an earlier question
    passages: list[Passage]  # relevant ones only, best first (a follow-up's `topic` passages lead)
    faqs: list[FaqMatch]
    topic: tuple[str, ...] = ()  # documents the last reply cited that this follow-up stayed with

    @property
    def best_score(self) -> float:
        return _best(self.passages)

    @property
    def leans_on_history(self) -> bool:
        """The query was read with an earlier question (`rewrite_query` or `refers_back`)."""
        return self.query != self.text


class Reranker(Protocol):
    """A stronger model that reorders retrieved passages and scores sentences (knowledge_base.rerank)."""

    name: str

    def rank(self, question: str, passages: list[Passage]) -> list[tuple[float, Passage]]: ...
    def relevance(self, question: str, texts: list[str]) -> np.ndarray: ...


class Answerer:
    def __init__(self, *, knowledge: KnowledgeSource, generator: Generator, config: AnsweringSettings,
                 reranker: Reranker | None = None, bank_name: str = DEFAULT_BANK_NAME) -> None:
        self.kb, self.generator, self.cfg, self.reranker = knowledge, generator, config, reranker
        self.bank_name, self.explain_requests = bank_name, ExplainRequests(lambda texts: self.kb.embed_many(texts))

    def system_prompt(self) -> str:
        return prompts.SYSTEM_PROMPT.format(bank_name=self.bank_name)

    def faq_reply(self, cid: str, text: str, faqs: list[FaqMatch], previous: list[str], intent: IntentInfo | None,
                  vector: np.ndarray) -> Reply | None:
        """A known question answered with its approved text, without the LLM (`faq_is_asked`)."""
        found = lambda: self.kb.search(text, self.cfg.retrieval_k, None, vector)  # noqa: E731
        if not faq_is_asked(faqs, found, self.cfg) or rewrite_query(text, previous) != text:
            return None
        top = faqs[0].entry
        answer = " ".join(sanitize_passage(top.answer, self.cfg.link_domains).split())  # an approved text can be poisoned too
        if not answer:
            return None
        cites = (Citation(doc_id=top.faq_id, title=top.title, snippet=answer[:240], source=top.source, score=round(faqs[0].score, 4)),)
        return Reply(cid, answer, path="faq", citations=cites, intent=intent, suggestions=related(faqs[1:]))

    async def retrieve(self, text: str, previous: list[str], vector: np.ndarray, faqs: list[FaqMatch],
                       topic: tuple[str, ...] = ()) -> Retrieval:
        """The passages for this message. `previous`: the customer's earlier questions, oldest first;
        `topic`: the documents the last reply cited (the conversation's subject)."""
        # "sorry, I'm lost" names nothing the conversation has not: its subject is the conversation's
        elliptic = names_nothing(text) or (bool(previous) and self.explain_requests.asks(text, vector))
        query = rewrite_query(text, previous, elliptic=elliptic)
        qvec = vector if query == text else await self.kb.aembed(query)
        passages = await asyncio.to_thread(self.kb.search, query, self.cfg.retrieval_k, None, qvec)
        alone = passages if query == text else None
        if query == text and previous and (refers_back(text) or self._on_topic(text, vector, passages, topic)):
            # Read together, any question scores higher, so only a clear gain counts
            # (docs/decisions/0003-follow-up-queries.md).
            joined = with_previous(text, subject_of(previous) or previous[-1])
            jvec = await self.kb.aembed(joined)
            alt = await asyncio.to_thread(self.kb.search, joined, self.cfg.retrieval_k, None, jvec)
            if _best(alt) > _best(passages) + self.cfg.follow_up_margin:
                query, qvec, passages = joined, jvec, alt
        swap = swaps_subject(text)
        if query != text and not (swap or continues(text) or elliptic or self.kb.knows(own_words(text))
                                  or self._answers_to(topic or _doc_ids(passages[:1]), vector)):
            # "book me some tickets there" after a question about wires names a subject of its own that the
            # knowledge base never mentions nor the conversation's documents answer to: its own words
            # decide (and its scope); "can I do it online?" is read with the conversation
            query, qvec = text, vector
            passages = alone if alone is not None else await asyncio.to_thread(self.kb.search, text, self.cfg.retrieval_k, None, vector)
        kept: tuple[str, ...] = ()
        if query != text and topic and not swap:  # a swap names a new subject: the old documents do not lead
            passages, kept = await asyncio.to_thread(self._stay_on_topic, passages, topic, qvec)
        relevant = [self._clean(p) for p in passages if p.score >= self.cfg.min_relevance]
        return Retrieval(text, query, relevant, faqs, kept)

    def _clean(self, p: Passage) -> Passage:
        """The passage without what its document planted (assistant/core/guardrails.py): in its text, its
        section heading and its title, which reach the model and the customer too."""
        def clean(text: str) -> str:
            return sanitize_passage(text, self.cfg.link_domains).strip()

        return replace(p, text=clean(p.text), title=clean(p.title) or "Larkspur Bank", section=clean(p.section or ""))

    def _on_topic(self, text: str, vector: np.ndarray, alone: list[Passage], topic: tuple[str, ...]) -> bool:
        """A short message with no word that points back ("how long will the investigation take?")
        may still continue the conversation: it does when the last reply's documents answer to it."""
        if not topic or len(text.split()) > self.cfg.topic_words or _best(alone) >= self.cfg.scope_override_relevance:
            return False  # "how long is the draw period on a heloc" stands on its own
        return self._answers_to(topic, vector)

    def _answers_to(self, topic: tuple[str, ...], vector: np.ndarray) -> bool:
        """The last reply's documents answer to the message's own words."""
        return bool(topic) and _best(self._topic_passages(topic, vector)) >= self.cfg.topic_relevance

    def _topic_passages(self, topic: tuple[str, ...], vector: np.ndarray) -> list[Passage]:
        return [p for d in topic for p in self.kb.document_passages(d, vector)]

    def _stay_on_topic(self, passages: list[Passage], topic: tuple[str, ...], vector: np.ndarray):
        """A follow-up read with the previous question: the documents the last reply cited come first
        when one of their passages is nearly as relevant as the best ("once they put it in, do they
        have to let me know?" is about the provisional credit just explained, not the liability guide
        that scores a little higher)."""
        best = _best(passages)
        on_topic = sorted((p for p in self._topic_passages(topic, vector) if p.score >= best - self.cfg.topic_margin),
                          key=lambda p: -p.score)
        if not on_topic:
            return passages, ()
        ids = {p.chunk_id for p in on_topic}
        merged = on_topic[: self.cfg.retrieval_k] + [p for p in passages if p.chunk_id not in ids]
        return merged[: self.cfg.retrieval_k], tuple(dict.fromkeys(p.doc_id for p in on_topic))

    def context(self, found: Retrieval) -> list[Passage]:
        """The passages a prompt holds: only those nearly as relevant as the best (each costs prefill time)."""
        top = max(p.score for p in found.passages)
        return [p for p in found.passages if p.score >= top - self.cfg.context_margin][: self.cfg.context_k]

    async def quote(self, cid: str, found: Retrieval, intent: IntentInfo | None) -> AsyncIterator[Event]:
        """The passages' own sentences, cited: the dialogue manager's kb_quote route."""
        yield await self._quote(cid, found, self.context(found), intent, guard="quoted", suggestions=related(found.faqs))

    async def generate(self, cid: str, found: Retrieval, t0: float, intent: IntentInfo | None) -> AsyncIterator[Event]:
        """Stream a grounded answer under the figure guard (the kb_generate route); the last event is the Reply."""
        context = self.context(found)
        emitted: list[str] = []
        first_token_ms: float | None = None
        model_failed = False
        try:
            async for piece in self._guarded(self._request(found.query, context), context):
                if first_token_ms is None:
                    first_token_ms = round((time.perf_counter() - t0) * 1000, 1)
                emitted.append(piece)
                yield ReplyDelta(cid, piece)
        except GuardTripped as tripped:
            log.info("guard replaced a generated reply (%s)", tripped)
            emitted = []
        except GenerationError as exc:  # model slow or down: the passages still answer, verbatim
            log.warning("generation failed (%s); answering extractively", exc)
            emitted, model_failed = [], True
        answer = "".join(emitted).strip()
        verdict = check_reply(answer, context)
        if not verdict.ok:  # the whole reply, once more: a figure no passage states is never stored or sent
            log.info("final check replaced a generated reply (unsupported figures: %s)", ", ".join(verdict.unsupported))
            answer = ""
        if answer and declines(answer):
            # The model said it has no answer or only offered an agent, with passages in front of it: the customer
            # gets the closest sentences, said to be the closest, and the offer (docs/decisions/0006-guard-replacements.md).
            log.info("generated reply declined; quoting the closest passages")
            yield await self._quote(cid, found, context, intent, guard="declined", lead=prompts.CLOSEST_LEAD,
                                    suggestions=(prompts.TALK_TO_AGENT, *related(found.faqs)), first_token_ms=first_token_ms)
            return
        answer, suggestions = self._vetted(answer, found, context), related(found.faqs)
        if not answer:
            yield await self._quote(cid, found, context, intent, guard="model_unavailable" if model_failed else "replaced",
                                    suggestions=(prompts.TALK_TO_AGENT, *suggestions) if model_failed else suggestions,
                                    first_token_ms=first_token_ms)
            return
        yield Reply(cid, answer, path="generated", citations=cite(answer, context), intent=intent, suggestions=suggestions,
                    first_token_ms=first_token_ms, retrieved=_doc_ids(context), guard="passed")

    def _vetted(self, answer: str, found: Retrieval, context: list[Passage]) -> str:
        """The generated reply, or "" where it must give way to the quoted passages."""
        if answer and (leaks_system_prompt(answer, self.system_prompt()) or unsafe_sentence(answer, self.cfg.link_domains)):
            log.warning("reply repeated the system prompt or said what the bank never says; replaced with the extractive answer")
            return ""
        if answer and grafted_terms(answer, found.text, context):
            # the customer's words are not logged: only that the guard tripped
            log.info("generated reply repeated a term of the question that no passage states; answering extractively")
            return ""
        if answer and asks_for_figure(found.query) and not figures(answer):
            # "How long do I have…?" answered without a number is no answer; the passage has it.
            log.info("generated reply to a quantity question stated no figure; answering extractively")
            return ""
        return answer

    async def _quote(self, cid: str, found: Retrieval, context: list[Passage], intent: IntentInfo | None, *, guard: str,
                     suggestions: tuple[str, ...], first_token_ms: float | None = None, lead: str = prompts.EXTRACTIVE_LEAD) -> Reply:
        """The passages' own sentences, cited (path "extractive"); `guard` says why they were quoted."""
        # Quoting costs no prefill, so its sentences come from every passage nearly as good as the best.
        if self.reranker is not None:
            quoted, relevance = await asyncio.to_thread(self._reranked, self.reranker, found.query, found.passages, found.topic)
        else:
            wider = [p for p in found.passages if p.score >= found.best_score - self.cfg.quote_context_margin]
            quoted, relevance = (wider if len(wider) > len(context) else context), self._relevance
        text, cites = await asyncio.to_thread(extractive_answer, found.query, quoted, relevance=relevance,
                                              wants_figure=asks_for_figure(found.query), max_sentences=self.cfg.quote_sentences, lead=lead)
        return Reply(cid, text, path="extractive", citations=cites, intent=intent, suggestions=suggestions,
                     first_token_ms=first_token_ms, retrieved=_doc_ids(quoted), guard=guard)

    def _reranked(self, reranker: Reranker, question: str, passages: list[Passage], topic: tuple[str, ...] = ()):
        """The passages within the margin of the reranker's best, in its order, and its sentence scores.

        A follow-up's `topic` documents (see `_stay_on_topic`) keep their lead by `topic_margin` here
        too. Why a reranker: docs/decisions/0005-mpnet-reranker.md.
        """
        def rank(candidates: list[Passage]) -> list[tuple[float, Passage]]:
            return [(s + self.cfg.topic_margin if p.doc_id in topic else s, p) for s, p in reranker.rank(question, candidates)]

        ranked = sorted(rank(passages), key=lambda sp: -sp[0])
        if self.cfg.quote_whole_document:
            # The best document's other sections compete too: "what factors are lenders not allowed
            # to use when deciding credit" retrieves two sections of the ECOA guide, not the one
            # headed "Prohibited bases".
            seen = {p.chunk_id for p in passages}
            more = [self._clean(p) for p in self.kb.document_passages(ranked[0][1].doc_id, self.kb.embed(question)) if p.chunk_id not in seen]
            if more:
                ranked = sorted(ranked + rank(more), key=lambda sp: -sp[0])
        top = ranked[0][0]
        return [p for score, p in ranked if score >= top - self.cfg.quote_context_margin], reranker.relevance

    def _relevance(self, question: str, sentences: list[str]) -> np.ndarray:
        """Cosine of each sentence to the question (unit vectors from the retrieval encoder)."""
        return self.kb.embed_many(sentences) @ self.kb.embed(question)

    def _request(self, question: str, context: list[Passage]) -> GenerationRequest:
        """System prompt + passages + the (self-contained) question.

        Earlier turns reach the model only through the rewritten question: on a CPU every
        prompt token costs prefill time before the first word can stream.
        """
        passages = "\n".join(
            prompts.PASSAGE_TEMPLATE.format(n=i + 1, title=p.title, section=p.section or "overview", text=_trim(p.text))
            for i, p in enumerate(context)
        )
        user = ChatMessage("user", prompts.CONTEXT_TEMPLATE.format(passages=passages, question=question))
        return GenerationRequest(messages=(ChatMessage("system", self.system_prompt()), user), max_new_tokens=self.cfg.max_new_tokens)

    def _guarded(self, request: GenerationRequest, context: list[Passage]) -> AsyncIterator[str]:
        """The model's text; a figure reaches the customer only after the guard found it in the passages."""
        return guarded(self.generator.stream(request), context, self.system_prompt(), self.cfg.link_domains)


def _best(passages: list[Passage]) -> float:
    return max((p.score for p in passages), default=0.0)


def _doc_ids(context: list[Passage]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.doc_id for p in context))


def _trim(text: str, limit: int = 500) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + " …"
