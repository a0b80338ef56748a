"""Wire the components together in one place, from Settings."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import sessionmaker

from assistant.analytics import Analytics, CsatRepository, GapConfig
from assistant.assets import (
    LLM_REGISTRY,
    resolve_embedding,
    resolve_gguf,
    resolve_llm,
    resolve_onnx_encoder,
    resolve_rerank_model,
)
from assistant.audit import AuditLog
from assistant.audit_anchors import AnchorFile, load_key
from assistant.banking.backend import BankingBackend
from assistant.banking.identity import IdentityVerifier
from assistant.banking.setup import build_banking_backend, build_identity_verifier
from assistant.bus import EventBus, InMemoryBus, RedisBus
from assistant.config import Settings, offline_environment
from assistant.core.pipeline import DialoguePipeline, PipelineConfig
from assistant.core.sign_in import KeypadSignIn
from assistant.dialogue.service import SelfService
from assistant.handoff.policy import HandoffPolicy
from assistant.handoff.service import HandoffService
from assistant.kb_admin import KnowledgeAdmin
from assistant.kb_editor import KbEditor, build_kb_editor
from assistant.kb_sync import KbUploads
from assistant.llm import ChatMessage, GenerationRequest, Generator
from assistant.metrics import Metrics
from assistant.nlu.classifier import HandoffRules, MiniLMIntentClassifier, MissingArtifactError
from assistant.storage.agents import AgentRepository
from assistant.storage.db import make_engine, migrate, session_factory
from assistant.storage.repository import ConversationRepository
from assistant.storage.robots import RobotRepository
from assistant.storage.tickets import TicketRepository
from assistant.throttle import ThrottledPipeline
from knowledge_base.embeddings import MiniLMEmbeddings
from knowledge_base.rerank import SentenceReranker
from knowledge_base.retriever import LiveRetriever

if TYPE_CHECKING:
    from assistant.qa.service import QaService
    from voice.stack import VoiceStack

log = logging.getLogger(__name__)
ROLLUP_EVERY_S = 60.0  # dashboard reads rebuild the analytics rollups of dirty days at most this often


@dataclass(kw_only=True)
class Services:
    settings: Settings
    embedder: MiniLMEmbeddings
    retriever: LiveRetriever
    generator: Generator
    conversations: ConversationRepository
    tickets: TicketRepository
    agents: AgentRepository
    bus: EventBus
    handoff: HandoffService
    pipeline: ThrottledPipeline  # the DialoguePipeline behind the per-conversation turn limit
    startup_s: float
    canned_replies: list[str]
    kb_admin: KnowledgeAdmin
    robots: RobotRepository
    metrics: Metrics
    audit: AuditLog
    voice: VoiceStack | None = None  # None without the [voice] extra or with voice disabled
    voice_error: str | None = None  # why voice is off (names the extra to install)
    nlu: MiniLMIntentClassifier | None = None  # intent, scope, human request (assistant/nlu/)
    selfservice: SelfService | None = None  # flows on the bank's API for verified customers (assistant/dialogue/)
    identity: IdentityVerifier | None = None  # checks the bank's signed identity assertions
    keypad: KeypadSignIn | None = None  # phone and robot sign-in: customer number + PIN, checked by the bank
    kb_editor: KbEditor | None = None  # drafts, review, publish and rollback of the knowledge base (assistant/kb_editor/)
    analytics: Analytics | None = None  # the supervisor dashboard and knowledge gaps (assistant/analytics/)
    csat: CsatRepository | None = None  # end-of-conversation satisfaction answers
    qa: QaService | None = None  # scores closed conversations against the scorecard (assistant/qa/)


def build_embedder(settings: Settings) -> MiniLMEmbeddings:
    import torch

    offline_environment()
    torch.set_num_threads(settings.torch_threads)
    model_dir = resolve_embedding(settings.embedding_model)
    if settings.embedding_runtime == "torch":
        return MiniLMEmbeddings(model_dir, threads=settings.torch_threads)
    onnx = resolve_onnx_encoder(model_dir, settings.models_cache)
    queries = resolve_onnx_encoder(model_dir, settings.models_cache, int8=True) if settings.embedding_query_int8 else None
    return MiniLMEmbeddings(model_dir, onnx_file=onnx, query_onnx_file=queries, threads=settings.torch_threads)


def build_reranker(settings: Settings, *, threads: int | None = None) -> SentenceReranker | None:
    """mpnet for quoted answers (knowledge_base/rerank.py), on the same runtime as the embedder; None when off.

    `threads`: more than the per-model setting for batch work (`kb build` warms every passage).
    """
    if not settings.rerank_model:
        return None
    offline_environment()
    model_dir = resolve_rerank_model(settings.rerank_model, settings.models_cache)
    onnx = None if settings.embedding_runtime == "torch" else resolve_onnx_encoder(model_dir, settings.models_cache)
    encoder = MiniLMEmbeddings(model_dir, onnx_file=onnx, threads=threads or settings.torch_threads)
    return SentenceReranker(encoder, cache_path=settings.rerank_vector_cache, name=settings.rerank_model)


def build_generator(settings: Settings) -> Generator:
    if settings.llm_backend == "openai":
        from assistant.llm.openai_compat import OpenAICompatibleGenerator

        return OpenAICompatibleGenerator(
            base_url=settings.llm_openai_url, model=settings.llm_openai_model,
            api_key=settings.llm_openai_api_key, timeout_s=settings.llm_timeout_s,
        )
    if settings.llm_backend == "llamacpp":
        from assistant.llm.llamacpp import LlamaCppGenerator

        return LlamaCppGenerator(
            resolve_gguf(settings.llm_model, settings.models_cache), adapter_path=settings.llm_adapter,
            threads=settings.torch_threads, timeout_s=settings.llm_timeout_s, queue_timeout_s=settings.llm_queue_timeout_s,
            name=settings.llm_model if settings.llm_model in LLM_REGISTRY else None,  # else the file's name
        )
    from assistant.llm.local import LocalLoraGenerator

    return LocalLoraGenerator(
        resolve_llm(settings.llm_model, settings.models_cache), adapter_path=settings.llm_adapter,
        threads=settings.torch_threads, dtype=settings.llm_dtype, timeout_s=settings.llm_timeout_s,
        queue_timeout_s=settings.llm_queue_timeout_s,
    )


@dataclass(frozen=True)
class Repositories:
    conversations: ConversationRepository
    tickets: TicketRepository
    agents: AgentRepository
    robots: RobotRepository
    audit: AuditLog
    kb_uploads: KbUploads
    sessions: sessionmaker


def build_audit(settings: Settings, sessions) -> AuditLog:
    key = load_key(settings.audit_key, settings.audit_key_path, create=settings.environment != "production")
    return AuditLog(sessions, key=key, anchors=AnchorFile(settings.audit_anchors_path))


def build_repositories(settings: Settings) -> Repositories:
    engine = make_engine(settings.sqlalchemy_url)
    migrate(engine)
    sessions = session_factory(engine)
    audit = build_audit(settings, sessions)
    return Repositories(ConversationRepository(sessions), TicketRepository(sessions),
                        AgentRepository(sessions), RobotRepository(sessions), audit, KbUploads(sessions), sessions)


def pipeline_config(settings: Settings) -> PipelineConfig:
    return PipelineConfig(
        bank_name=settings.bank_name, retrieval_k=settings.retrieval_k, context_k=settings.context_k,
        min_relevance=settings.min_relevance, context_margin=settings.context_margin, faq_threshold=settings.faq_threshold, fast_faq_margin=settings.faq_fast_margin,
        history_turns=settings.history_turns, max_new_tokens=settings.llm_max_new_tokens,
        quote_figure_questions=settings.quote_figure_questions, quote_categories=tuple(settings.quote_categories), scope_override_relevance=settings.scope_override_relevance,
        quote_sentences=settings.quote_sentences, quote_context_margin=settings.quote_context_margin,
        quote_whole_document=settings.quote_whole_document, topic_margin=settings.topic_margin,
        link_domains=tuple(settings.link_domains),
    )


def ensure_index(settings: Settings, embedder: MiniLMEmbeddings) -> None:
    from knowledge_base.index import build_index, index_exists

    if not index_exists(settings.index_dir):
        log.info("no knowledge-base index in %s: building it from %s", settings.index_dir, settings.kb_docs_dir)
        report = build_index(Path(settings.kb_docs_dir), settings.index_dir, embedder, progress=False,
                             vector_cache=settings.vector_cache)
        log.info("knowledge base: %s", report.summary())


async def _warm_up(generator: Generator, system_prompt: str) -> None:
    """One token through the model: caches the system prompt's KV and warms the kernels."""
    request = GenerationRequest(messages=(ChatMessage("system", system_prompt), ChatMessage("user", "Hello")), max_new_tokens=1)
    async for _ in generator.stream(request):
        pass


def build_nlu(settings: Settings, embedder: MiniLMEmbeddings, policy: HandoffPolicy) -> MiniLMIntentClassifier:
    """Shares the retrieval embedder (same MiniLM) and the handoff policy's thresholds."""
    rules = HandoffRules(urgent_intents=policy.urgent_intents, frustration_threshold=policy.frustration_threshold,
                         low_confidence=policy.low_confidence_threshold, urgent_confidence=policy.urgent_confidence)
    return MiniLMIntentClassifier(embedder, settings.intent_artifact_dir, rules=rules)


def build_selfservice(settings: Settings, retriever: LiveRetriever, sessions: sessionmaker,
                      bank: BankingBackend) -> SelfService:
    """Flows (assistant/dialogue/flows) on the bank's REST API; a malformed flow file stops start-up."""
    from assistant.dialogue.bank_actions import BankActions
    from assistant.dialogue.flows import load_flows
    from assistant.dialogue.matcher import FlowMatcher
    from assistant.dialogue.runner import FlowRunner
    from assistant.dialogue.sealing import Sealer
    from assistant.dialogue.state import DialogueStore

    actions = BankActions(bank)
    flows = load_flows(settings.flows_dir, actions=set(actions.names))
    matcher = FlowMatcher(flows, retriever.embed_many, min_similarity=settings.flow_min_similarity,
                          min_intent_confidence=settings.flow_min_intent_confidence)
    sealer = Sealer.from_file(settings.data_dir / "dialogue.key")
    return SelfService(runner=FlowRunner(flows, actions, sealer=sealer), matcher=matcher, store=DialogueStore(sessions),
                       faq_threshold=settings.faq_threshold)


def load_canned(path: Path) -> list[str]:
    import yaml

    return [str(x) for x in (yaml.safe_load(path.read_text()) or [])]


def build_services(settings: Settings) -> Services:
    t0 = time.perf_counter()
    generator = build_generator(settings)  # first: a missing model fails before slower work
    embedder = build_embedder(settings)
    ensure_index(settings, embedder)
    reranker = build_reranker(settings)
    retriever = LiveRetriever(settings.index_dir, embedder, reranker=reranker)
    repos = build_repositories(settings)
    repos.audit.ensure_keyed()  # records from before the key are marked as such (assistant/audit.py)
    policy = HandoffPolicy.load(settings.handoff_policy)
    try:
        nlu = build_nlu(settings, embedder, policy)
    except MissingArtifactError as exc:  # the assistant still answers; intents, scope and handoff cues are off
        log.warning("intent classifier not loaded: %s", exc)
        nlu = None
    metrics = Metrics()
    bus: EventBus = (RedisBus(settings.redis_url, prefix=settings.redis_prefix, timeout_s=settings.redis_timeout_s)
                      if settings.redis_url else InMemoryBus())
    handoff = HandoffService(tickets=repos.tickets, conversations=repos.conversations, bus=bus,
                             expected_handle_minutes=policy.expected_handle_minutes, audit=repos.audit)
    bank = build_banking_backend(settings) if settings.selfservice_enabled else None
    selfservice = build_selfservice(settings, retriever, repos.sessions, bank) if bank is not None else None
    identity = build_identity_verifier(settings, repos.sessions) if bank is not None else None
    pipeline = DialoguePipeline(
        knowledge=retriever, generator=generator, conversations=repos.conversations, config=pipeline_config(settings),
        policy=policy, handoff=handoff, metrics=metrics, audit=repos.audit, nlu=nlu, reranker=reranker,
        selfservice=selfservice,
    )
    keypad = KeypadSignIn(bank=bank, verifier=identity, pipeline=pipeline) \
        if bank is not None and identity is not None else None
    if settings.llm_backend != "openai":
        asyncio.run(_warm_up(generator, pipeline.system_prompt()))
    from assistant.channels.voice_setup import build_voice

    voice, voice_error = build_voice(settings)
    startup = time.perf_counter() - t0
    log.info("services ready in %.1f s (index %s, generator %s)", startup, retriever.version, generator.name)
    kb_admin = KnowledgeAdmin(docs_dir=Path(settings.kb_docs_dir), index_dir=settings.index_dir, embedder=embedder,
                              retriever=retriever, vector_cache=settings.vector_cache, uploads=repos.kb_uploads, bus=bus)
    if kb_admin.sync_at_start():  # documents another replica added or deleted while this one was down
        log.info("knowledge base: admin changes from the database applied; index %s", retriever.version)
    kb_editor = build_kb_editor(settings, sessions=repos.sessions, admin=kb_admin, pipeline=pipeline, reranker=reranker,
                                audit=repos.audit)
    analytics = Analytics(repos.sessions, embed=embedder.encode, low_confidence=policy.low_confidence_threshold,
                          gap_config=GapConfig(distance=settings.gap_distance, min_size=settings.gap_min_size),
                          rollup_every_s=ROLLUP_EVERY_S)
    from assistant.qa.setup import build_qa

    qa = build_qa(settings, repos.sessions, embedder.encode)  # a malformed scorecard stops start-up, naming its line
    return Services(
        settings=settings, embedder=embedder, retriever=retriever, generator=generator, conversations=repos.conversations,
        tickets=repos.tickets, agents=repos.agents, bus=bus, handoff=handoff, pipeline=ThrottledPipeline(pipeline),
        startup_s=startup, canned_replies=load_canned(settings.canned_replies), kb_admin=kb_admin, robots=repos.robots,
        metrics=metrics, audit=repos.audit, voice=voice, voice_error=voice_error, nlu=nlu, selfservice=selfservice,
        identity=identity, keypad=keypad, kb_editor=kb_editor, analytics=analytics, csat=CsatRepository(repos.sessions),
        qa=qa,
    )
