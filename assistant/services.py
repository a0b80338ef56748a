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
from assistant.config.yaml_files import CannedReplies, load_yaml_model
from assistant.core.pipeline import DialoguePipeline
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
from assistant.storage.db import WriteQueue, make_engine, migrate, session_factory
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
    model_dir = resolve_embedding(settings.retrieval.embedding_model)
    if settings.retrieval.embedding_runtime == "torch":
        return MiniLMEmbeddings(model_dir, threads=settings.torch_threads)
    onnx = resolve_onnx_encoder(model_dir, settings.models_cache)
    queries = resolve_onnx_encoder(model_dir, settings.models_cache, int8=True) if settings.retrieval.embedding_query_int8 else None
    return MiniLMEmbeddings(model_dir, onnx_file=onnx, query_onnx_file=queries, threads=settings.torch_threads)


def build_reranker(settings: Settings, *, threads: int | None = None) -> SentenceReranker | None:
    """mpnet for quoted answers (knowledge_base/rerank.py), on the same runtime as the embedder; None when off.

    `threads`: more than the per-model setting for batch work (`kb build` warms every passage).
    """
    if not settings.retrieval.rerank_model:
        return None
    offline_environment()
    model_dir = resolve_rerank_model(settings.retrieval.rerank_model, settings.models_cache)
    onnx = None if settings.retrieval.embedding_runtime == "torch" else resolve_onnx_encoder(model_dir, settings.models_cache)
    encoder = MiniLMEmbeddings(model_dir, onnx_file=onnx, threads=threads or settings.torch_threads)
    return SentenceReranker(encoder, cache_path=settings.rerank_vector_cache, name=settings.retrieval.rerank_model)


def build_generator(settings: Settings) -> Generator:
    if settings.llm.backend == "openai":
        from assistant.llm.openai_compat import OpenAICompatibleGenerator

        return OpenAICompatibleGenerator(
            base_url=settings.llm.openai_url, model=settings.llm.openai_model,
            api_key=settings.llm.openai_api_key, timeout_s=settings.llm.timeout_s,
        )
    if settings.llm.backend == "llamacpp":
        from assistant.llm.llamacpp import LlamaCppGenerator

        return LlamaCppGenerator(
            resolve_gguf(settings.llm.model, settings.models_cache), adapter_path=settings.llm.adapter,
            threads=settings.torch_threads, timeout_s=settings.llm.timeout_s, queue_timeout_s=settings.llm.queue_timeout_s,
            name=settings.llm.model if settings.llm.model in LLM_REGISTRY else None,  # else the file's name
        )
    from assistant.llm.local import LocalLoraGenerator

    return LocalLoraGenerator(
        resolve_llm(settings.llm.model, settings.models_cache), adapter_path=settings.llm.adapter,
        threads=settings.torch_threads, dtype=settings.llm.dtype, timeout_s=settings.llm.timeout_s,
        queue_timeout_s=settings.llm.queue_timeout_s,
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
    key = load_key(settings.audit.key, settings.audit_key_path, create=settings.environment != "production")
    return AuditLog(sessions, key=key, anchors=AnchorFile(settings.audit_anchors_path))


def build_repositories(settings: Settings) -> Repositories:
    engine = make_engine(settings.sqlalchemy_url)
    migrate(engine)
    sessions = session_factory(engine)
    audit = build_audit(settings, sessions)
    return Repositories(ConversationRepository(sessions), TicketRepository(sessions),
                        AgentRepository(sessions), RobotRepository(sessions), audit, KbUploads(sessions), sessions)


def ensure_index(settings: Settings, embedder: MiniLMEmbeddings) -> None:
    from knowledge_base.index import build_index, index_exists

    if not index_exists(settings.index_dir):
        log.info("no knowledge-base index in %s: building it from %s", settings.index_dir, settings.retrieval.docs_dir)
        report = build_index(Path(settings.retrieval.docs_dir), settings.index_dir, embedder, progress=False,
                             vector_cache=settings.vector_cache)
        log.info("knowledge base: %s", report.summary())


async def _warm_up(generator: Generator, system_prompt: str) -> None:
    """One token through the model: caches the system prompt's KV and warms the kernels."""
    request = GenerationRequest(messages=(ChatMessage("system", system_prompt), ChatMessage("user", "Hello")), max_new_tokens=1)
    async for _ in generator.stream(request):
        pass


def build_nlu(settings: Settings, embedder: MiniLMEmbeddings, policy: HandoffPolicy,
              reranker: SentenceReranker | None = None) -> MiniLMIntentClassifier:
    """Shares the retrieval embedder (MiniLM), the reranker (mpnet: unsure messages) and the handoff thresholds."""
    rules = HandoffRules(urgent_intents=policy.urgent_intents, frustration_threshold=policy.frustration_threshold,
                         low_confidence=policy.low_confidence_threshold, urgent_confidence=policy.urgent_confidence)
    nlu = MiniLMIntentClassifier(embedder, settings.nlu.artifact_dir, rules=rules)
    nlu.use_second(reranker.name if reranker else "", reranker.embed_query if reranker else None)
    return nlu


def build_selfservice(settings: Settings, retriever: LiveRetriever, sessions: sessionmaker,
                      bank: BankingBackend, writes: WriteQueue | None = None) -> SelfService:
    """Flows (assistant/dialogue/flows) on the bank's REST API; a malformed flow file stops start-up."""
    from assistant.dialogue.bank_actions import BankActions
    from assistant.dialogue.flows import load_flows
    from assistant.dialogue.matcher import FlowMatcher
    from assistant.dialogue.runner import FlowRunner
    from assistant.dialogue.sealing import Sealer
    from assistant.dialogue.state import DialogueStore

    actions = BankActions(bank, cache_ttl_s=settings.selfservice.customer_cache_s)
    flows = load_flows(settings.selfservice.flows_dir, actions=set(actions.names))
    matcher = FlowMatcher(flows, retriever.embed_many, min_similarity=settings.selfservice.min_similarity,
                          min_intent_confidence=settings.selfservice.min_intent_confidence)
    sealer = Sealer.from_file(settings.storage.data_dir / "dialogue.key")
    return SelfService(runner=FlowRunner(flows, actions, sealer=sealer), matcher=matcher,
                       store=DialogueStore(sessions, writes), faq_threshold=settings.answering.faq_threshold)


def load_canned(path: Path) -> list[str]:
    """Agents' canned replies: a YAML list of strings (a malformed file stops start-up, naming its line)."""
    return load_yaml_model(path, CannedReplies).root


@dataclass(frozen=True)
class Knowledge:
    generator: Generator
    embedder: MiniLMEmbeddings
    reranker: SentenceReranker | None
    retriever: LiveRetriever


def build_knowledge(settings: Settings) -> Knowledge:
    generator = build_generator(settings)  # first: a missing model fails before slower work
    embedder = build_embedder(settings)
    ensure_index(settings, embedder)
    reranker = build_reranker(settings)
    return Knowledge(generator, embedder, reranker, LiveRetriever(settings.index_dir, embedder, reranker=reranker))


def load_nlu(settings: Settings, embedder: MiniLMEmbeddings, policy: HandoffPolicy,
             reranker: SentenceReranker | None = None) -> MiniLMIntentClassifier | None:
    try:
        return build_nlu(settings, embedder, policy, reranker)
    except MissingArtifactError as exc:  # the assistant still answers; intents, scope and handoff cues are off
        log.warning("intent classifier not loaded: %s", exc)
        return None


def build_bus(settings: Settings) -> EventBus:
    redis = settings.redis
    return RedisBus(redis.url, prefix=redis.prefix, timeout_s=redis.timeout_s) if redis.url else InMemoryBus()


def build_kb_admin(settings: Settings, kb: Knowledge, repos: Repositories, bus: EventBus) -> KnowledgeAdmin:
    kb_admin = KnowledgeAdmin(docs_dir=Path(settings.retrieval.docs_dir), index_dir=settings.index_dir,
                              embedder=kb.embedder, retriever=kb.retriever, vector_cache=settings.vector_cache,
                              uploads=repos.kb_uploads, bus=bus)
    if kb_admin.sync_at_start():  # documents another replica added or deleted while this one was down
        log.info("knowledge base: admin changes from the database applied; index %s", kb.retriever.version)
    return kb_admin


def build_services(settings: Settings) -> Services:
    from assistant.channels.voice_setup import build_voice
    from assistant.qa.setup import build_qa

    t0 = time.perf_counter()
    kb = build_knowledge(settings)
    repos = build_repositories(settings)
    repos.audit.ensure_keyed()  # records from before the key are marked as such (assistant/audit.py)
    policy = HandoffPolicy.load(settings.handoff.policy)  # a malformed policy stops start-up, naming its line
    nlu, metrics, bus = load_nlu(settings, kb.embedder, policy, kb.reranker), Metrics(), build_bus(settings)
    handoff = HandoffService(tickets=repos.tickets, conversations=repos.conversations, bus=bus,
                             expected_handle_minutes=policy.expected_handle_minutes, audit=repos.audit)
    bank = build_banking_backend(settings) if settings.selfservice.enabled else None
    selfservice = build_selfservice(settings, kb.retriever, repos.sessions, bank, repos.conversations.writes) \
        if bank is not None else None
    identity = build_identity_verifier(settings, repos.sessions) if bank is not None else None
    pipeline = DialoguePipeline(
        knowledge=kb.retriever, generator=kb.generator, conversations=repos.conversations, config=settings.answering,
        bank_name=settings.bank_name, policy=policy, handoff=handoff, metrics=metrics, audit=repos.audit, nlu=nlu,
        reranker=kb.reranker, selfservice=selfservice,
    )
    keypad = KeypadSignIn(bank=bank, verifier=identity, pipeline=pipeline) \
        if bank is not None and identity is not None else None
    if settings.llm.backend != "openai":
        asyncio.run(_warm_up(kb.generator, pipeline.system_prompt()))
    voice, voice_error = build_voice(settings)
    startup = time.perf_counter() - t0
    log.info("services ready in %.1f s (index %s, generator %s)", startup, kb.retriever.version, kb.generator.name)
    kb_admin = build_kb_admin(settings, kb, repos, bus)
    kb_editor = build_kb_editor(settings, sessions=repos.sessions, admin=kb_admin, pipeline=pipeline,
                                reranker=kb.reranker, audit=repos.audit)
    analytics = Analytics(repos.sessions, embed=kb.embedder.encode, low_confidence=policy.low_confidence_threshold,
                          gap_config=GapConfig(distance=settings.analytics.gap_distance,
                                               min_size=settings.analytics.gap_min_size),
                          rollup_every_s=ROLLUP_EVERY_S)
    qa = build_qa(settings, repos.sessions, kb.embedder.encode)  # a malformed scorecard stops start-up, naming its line
    return Services(
        settings=settings, embedder=kb.embedder, retriever=kb.retriever, generator=kb.generator,
        conversations=repos.conversations, tickets=repos.tickets, agents=repos.agents, bus=bus, handoff=handoff,
        pipeline=ThrottledPipeline(pipeline), startup_s=startup, canned_replies=load_canned(settings.handoff.canned_replies),
        kb_admin=kb_admin, robots=repos.robots, metrics=metrics, audit=repos.audit, voice=voice, voice_error=voice_error,
        nlu=nlu, selfservice=selfservice, identity=identity, keypad=keypad, kb_editor=kb_editor, analytics=analytics,
        csat=CsatRepository(repos.sessions), qa=qa,
    )
