"""The one place configuration is read (environment variables with prefix BANK_, and .env)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KB_DIR = PROJECT_ROOT / "knowledge_base" / "docs"
# The LoRA adapter tuned for the default model (docs/finetune.md); used when present.
DEFAULT_LLM_ADAPTER = PROJECT_ROOT / "assistant" / "llm" / "adapters" / "qwen05b-bank-v1"
DEFAULT_LLM_MODEL = "qwen2.5-coder-0.5b"


_PLACEHOLDER_WORDS = ("change", "replace", "placeholder", "example", "secret", "password", "passwd", "default",
                      "todo", "fixme", "dummy", "sample", "your", "token", "admin", "test", "demo", "dev", "xxx")


def is_placeholder(value: str) -> bool:
    """Values people leave in .env files: 'change-me', '<your token>', 'secret', 'xxxx', '${TOKEN}'."""
    flat = "".join(ch for ch in value.lower() if ch.isalnum())
    return (not flat or len(set(flat)) <= 2 or value.strip().startswith(("<", "${"))
            or any(flat.startswith(w) or flat.endswith(w) for w in _PLACEHOLDER_WORDS))


def _url_password(url: str | None) -> str | None:
    from sqlalchemy.engine import make_url  # the same parser the database and redis clients use

    try:
        return make_url(url).password if url else None
    except Exception:  # not an RFC-1738 URL: the client reports it when it connects
        return None


def production_problems(s: Settings) -> list[str]:
    """Every secret that is a placeholder or too short to be one, named by its setting."""
    out = []
    tokens = {"BANK_ADMIN_TOKEN": s.admin_token, "BANK_TWILIO_AUTH_TOKEN": s.twilio_auth_token,
              "BANK_BANKING_API_TOKEN": s.banking_api_token,
              "BANK_LLM_OPENAI_API_KEY": None if s.llm_openai_api_key == "not-needed" else s.llm_openai_api_key}
    for name, value in tokens.items():
        if value is not None and (is_placeholder(value) or len(value) < 24):
            out.append(f"{name} is a placeholder or shorter than 24 characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    for name, url in (("BANK_DATABASE_URL", s.database_url), ("BANK_REDIS_URL", s.redis_url)):
        password = _url_password(url)
        if password is not None and (is_placeholder(password) or len(password) < 12):
            out.append(f"{name} has a placeholder or short password")
    if s.voice_telephony and not s.twilio_auth_token:
        out.append("BANK_TWILIO_AUTH_TOKEN is required in production: it verifies Twilio's webhooks and media streams "
                   "(or set BANK_VOICE_TELEPHONY=false to turn the phone routes off)")
    if "*" in [ip.strip() for ip in s.forwarded_allow_ips.split(",")]:
        out.append("BANK_FORWARDED_ALLOW_IPS must name the reverse proxy's address, not '*' (any client could "
                   "choose the address the rate limits see)")
    if "*" in s.cors_origins:
        out.append("BANK_CORS_ORIGINS must list the widget's host pages, not '*'")
    if not s.audit_key or is_placeholder(s.audit_key) or len(s.audit_key) < 32:
        out.append("BANK_AUDIT_KEY must be set to 32+ random characters (the audit chain's HMAC key, kept outside the database)")
    return out


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANK_", env_file=".env", extra="ignore")

    bank_name: str = "Larkspur Bank"
    environment: Literal["dev", "production"] = Field(
        default="dev", description="production refuses placeholder secrets, short tokens and a wildcard CORS origin")

    # --- server
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = False

    cors_origins: list[str] = Field(default_factory=list, description="host pages allowed to call the API (widget)")
    # Limits (assistant/throttle.py): a client is an IP (IPv6: its /64) or an authenticated robot.
    rate_limit_ip: str = Field(default="300/minute", description="HTTP requests per client")
    rate_limit_session: str = Field(default="30/minute", description="customer turns per conversation, every "
                                    "transport (REST, chat socket, robot, voice)")
    rate_limit_ws_connect: str = Field(default="60/minute", description="websocket handshakes per client, every socket")
    rate_limit_conversations: str = Field(default="60/hour", description="new conversations per client")
    rate_limit_tickets: str = Field(default="10/hour", description="new hand-off tickets per client")
    forwarded_allow_ips: str = Field(default="127.0.0.1", description="the reverse proxy's address(es), trusted for "
                                     "X-Forwarded-For; never '*' (any client could pick the address limits see)")
    admin_token: str | None = Field(default=None, description="bearer token for /v1/admin (unset: admin API off)")

    # --- storage
    data_dir: Path = PROJECT_ROOT / "var"
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file in data_dir"
    )

    redis_url: str | None = Field(default=None, description="redis://host:6379/0 to share live events between API processes")
    redis_prefix: str = "bankassist:"
    redis_timeout_s: float = Field(default=1.0, gt=0, description="connect and reply timeout of every Redis call; "
                                   "past it the limiter lets the request through and the bus drops the event")

    audit_retention_days: int = Field(default=2555, description="audit records kept this long (default ~7 years)")
    # audit chain integrity (assistant/audit.py, assistant/audit_anchors.py): the key lives outside the database
    audit_key: str | None = Field(default=None, description=(
        "HMAC key of the audit chain, 32+ random characters (required in production); unset: the key file"))
    audit_key_file: Path | None = Field(default=None, description="key used when BANK_AUDIT_KEY is unset, created "
                                        "with mode 0600 on first start (default data_dir/audit.key)")
    audit_anchors_file: Path | None = Field(default=None, description="append-only file `bankassist audit anchor` "
                                            "writes the chain's head to (default data_dir/audit-anchors.jsonl)")

    # --- caches (outside the clone so fresh clones reuse converted models)
    cache_dir: Path = Path.home() / ".cache" / "bankassist"

    # --- knowledge base
    kb_docs_dir: Path = DEFAULT_KB_DIR
    kb_index_dir: Path | None = None  # default: data_dir / "kb_index"
    retrieval_k: int = 5
    context_k: int = 3
    context_margin: float = Field(
        default=0.10, description="passages this far below the best dense score are left out of the prompt"
    )
    quote_categories: list[str] = Field(
        default_factory=lambda: ["regulation"], description="KB categories answered by quoting (with quote_figure_questions)")
    scope_override_relevance: float = Field(
        default=0.40, description="a KB passage at least this relevant keeps a message the scope head refused in scope")
    quote_figure_questions: bool = Field(
        default=True, description="answer time/amount/rate questions by quoting the passage instead of generating")
    quote_sentences: int = Field(
        default=3, ge=1, le=6, description="sentences of the retrieved passages a quoted (extractive) answer keeps")
    quote_context_margin: float = Field(
        default=0.15, ge=0.0, description="a quoted answer picks sentences from passages this far below the best "
        "(by the reranker's score, or the dense score without one)")
    quote_whole_document: bool = Field(
        default=True, description="with the reranker, a quoted answer also weighs the other sections of the best "
        "passage's document (the one stating the asked-for figure is often outside the retrieved five)")
    link_domains: list[str] = Field(
        default_factory=lambda: ["larkspurbank.example", "larkspur.example", "gov", "annualcreditreport.com"],
        description="the only hosts (and those below them) a knowledge-base answer may name in a link or e-mail "
        "address; a document sentence pointing elsewhere is dropped, a generated reply doing so is replaced")
    topic_margin: float = Field(
        default=0.10, ge=0.0, description="a follow-up read with the previous question stays with the documents the "
        "last reply cited when one of their passages is this close to the best")
    min_relevance: float = Field(
        default=0.30, description="cosine similarity under which a passage is not relevant"
    )
    faq_threshold: float = Field(
        default=0.86, description="cosine similarity to an FAQ question variant for a direct answer"
    )
    faq_fast_margin: float = Field(
        default=0.03, ge=0, description="an FAQ match decided on the int8 query vector alone must clear the threshold by "
        "this much; other messages are embedded exactly too")

    # --- models
    embedding_model: str = Field(
        default="all-minilm-l6-v2", description="'all-minilm-l6-v2' (packaged) or a local path"
    )
    rerank_model: str = Field(
        default="all-mpnet-base-v2", description="reorders the retrieved passages and picks the sentences of a quoted "
        "answer: 'all-mpnet-base-v2' (packaged), a local sentence-transformers folder, or '' for none (MiniLM decides)")
    embedding_runtime: Literal["onnx", "torch"] = Field(
        default="onnx", description="onnx: ONNX Runtime on a graph exported once into the cache (same vectors, 2-3x "
        "faster for one query here); torch: sentence-transformers")
    embedding_query_int8: bool = Field(
        default=True, description="onnx runtime: a customer message is first embedded by an int8 copy of the encoder "
        "(2x faster, cosine >= 0.98 to fp32); a clear FAQ match is answered on it, anything else is embedded exactly")
    llm_backend: Literal["llamacpp", "local", "openai"] = Field(
        default="llamacpp", description="llamacpp: the GGUF weights in llama.cpp (+ adapter.gguf); local: transformers + "
        "peft on the converted weights; openai: an OpenAI-compatible server (vLLM, llama.cpp server, llm-serve)")
    llm_model: str = Field(
        default="qwen2.5-coder-0.5b",
        description="qwen2.5-coder-0.5b | qwen2.5-coder-1.5b | smollm2-135m | a local HF model dir",
    )
    llm_adapter_path: Path | None = Field(
        default=None,
        description="peft LoRA adapter directory; unset: the shipped adapter for the default model; empty: none",
    )
    llm_use_adapter: bool = Field(default=True, description="false: serve the base model without any adapter")
    llm_dtype: Literal["bfloat16", "float32"] = "bfloat16"
    llm_max_new_tokens: int = 160
    llm_timeout_s: float = 60.0
    llm_queue_timeout_s: float = Field(
        default=4.0, description="a generated answer waits at most this long for the local model (one generation at a "
        "time); then the passage is quoted instead, with an offer of an agent")
    llm_openai_url: str = "http://127.0.0.1:8001/v1"
    llm_openai_model: str = "bankassist"
    llm_openai_api_key: str = "not-needed"
    torch_threads: int = Field(default=1, ge=1, description="threads per model (torch, and llama.cpp's decode)")

    # --- sign-in and sessions (agents, robots, customers; assistant/auth/)
    agent_token_ttl_h: float = Field(default=12.0, gt=0, description="an agent's login token is valid this long")
    agent_login_limits: str = Field(
        default="5/minute;10/15 minutes;20/hour;40/day",
        description="login attempts per account; every tier must allow one (each doubling waits longer); a success resets")
    agent_login_ip_limits: str = Field(
        default="20/minute;100/hour;300/day", description="failed agent logins per client IP, in tiers")
    session_recheck_s: float = Field(
        default=30.0, gt=0, description="live agent and robot sockets re-check their token (revoked, expired) this often")
    ws_auth_timeout_s: float = Field(default=10.0, gt=0, description="a socket's first frame {type: auth} must come this soon")
    customer_session_ttl_h: float = Field(default=24.0, gt=0, description="a customer's session token expires this long after it was issued")

    # --- lobby robots
    robot_idle_timeout_s: float = 120.0
    robot_display: Path = PROJECT_ROOT / "assistant" / "channels" / "robot_display.yaml"

    # --- dialogue and handoff
    handoff_policy: Path = PROJECT_ROOT / "assistant" / "handoff" / "policy.yaml"
    canned_replies: Path = PROJECT_ROOT / "assistant" / "handoff" / "canned.yaml"
    agent_transfer_number: str | None = Field(default=None, description="phone number voice calls are transferred to")
    max_message_chars: int = 4000
    history_turns: int = 4

    # --- supervisor analytics (assistant/analytics/, docs/analytics.md)
    gap_distance: float = Field(default=0.45, gt=0, lt=2, description="knowledge gaps: average cosine distance "
                                "under which gap questions form one cluster (bench/gap_clusters.py)")
    gap_min_size: int = Field(default=3, ge=2, description="knowledge gaps: questions a cluster needs to be a gap")
    voice_csat: bool = Field(default=True, description="after a caller's goodbye, ask for a keypad rating 1-5")

    # --- NLU (intent, scope, human request; assistant/nlu/, trained by finetune/intent/)
    intent_artifact_dir: Path = PROJECT_ROOT / "assistant" / "nlu" / "artifacts" / "intent"
    banking77_dir: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "data" / "banking77",
        description="BANKING77 train split, read by intent training and tests only (never at run time)",
    )
    shared_data_dir: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "data",
        description="HWU64, SNIPS and SGD (issue 29 scope training and bench/understanding.py; never at run time)",
    )

    # --- voice (the [voice] extra; docs/voice.md)
    voice_enabled: bool = Field(default=True, description="load ASR/TTS at start when the [voice] extra is installed")
    voice_asr_model: str = Field(default="tiny.en", description="tiny.en | base (multilingual) | a CTranslate2 Whisper dir")
    voice_asr_language: str = Field(default="en", description="language code; empty = detect (multilingual models)")
    voice_asr_beam_size: int = Field(default=1, ge=1, le=5)
    voice_asr_window: Literal["fit", "full"] = Field(default="fit", description="encode the utterance only, or 30 s")
    voice_asr_prompt: str | None = Field(default=None, description="Whisper initial prompt; default: banking vocabulary")
    voice_tts_length_scale: float | None = Field(default=None, description="Piper speaking rate (<1 faster)")
    voice_vad_threshold: float = 0.5
    voice_min_speech_ms: int = Field(default=160, description="speech that starts a turn and interrupts playback")
    voice_end_silence_ms: int = Field(default=480, description="silence that ends the caller's turn")
    voice_silence_reprompt_s: float = 8.0
    voice_max_reprompts: int = 2
    voice_greeting: str | None = Field(default=None, description="default: thanks for calling {bank_name}")
    voice_public_url: str | None = Field(default=None, description="https://host the phone provider reaches; default: the request's")
    voice_hold_queue: str = Field(default="bank-agents", description="Twilio queue when no agent_transfer_number")
    twilio_auth_token: str | None = Field(
        default=None, description="checks X-Twilio-Signature on the webhooks and the media stream, and keys the call tokens; "
        "required in production while voice_telephony is on")
    voice_max_upload_mb: float = 10.0
    voice_telephony: bool = Field(default=True, description="serve the Twilio routes (/v1/voice/twiml, /v1/voice/twilio)")
    voice_max_audio_s: float = Field(default=60.0, gt=0, description="longest audio /v1/asr decodes (read from the header first)")
    voice_idle_timeout_s: float = Field(default=30.0, gt=0, description="a voice socket that receives nothing this long is closed")

    @field_validator("twilio_auth_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    # --- quality inspection (assistant/qa/, /console/qa)
    qa_enabled: bool = Field(default=True, description="score closed conversations in the background")
    qa_scorecard: Path | None = Field(default=None, description="scorecard YAML; default assistant/qa/scorecards/default-v1.yaml")
    qa_idle_minutes: float = Field(default=30.0, ge=0, description="a conversation nobody wrote in for this long is closed")
    qa_interval_s: float = Field(default=60.0, gt=0, description="the scoring worker wakes this often")
    qa_batch: int = Field(default=50, ge=1, description="conversations scored per wake-up")
    qa_random_rate: float = Field(default=0.05, ge=0, le=1, description="share sent to review whatever their risk")
    qa_long_wait_minutes: float = Field(default=10.0, gt=0, description="a hand-off waiting longer is a review risk")

    # --- self-service banking (docs/banking.md): the bank's REST API, the sandbox bank, identity assertions
    selfservice_enabled: bool = Field(default=True, description="flows for verified customers (assistant/dialogue)")
    flows_dir: Path = Field(default=Path(__file__).resolve().parent / "dialogue" / "flows",
                            description="the self-service flow files (YAML), checked at start-up")
    flow_min_similarity: float = Field(default=0.6, ge=0, le=1, description="a message this close (cosine) to a "
                                       "flow's examples starts it")
    flow_min_intent_confidence: float = Field(default=0.6, ge=0, le=1, description="or a flow's trigger intent "
                                              "at least this confident")
    banking_url: str = Field(default="http://127.0.0.1:8100", description="the core-banking REST API "
                             "(docs/banking-api.yaml); the default is the sandbox bank")
    banking_api_token: str | None = Field(default=None, description="bearer token the assistant sends to the bank")
    banking_timeout_s: float = Field(default=5.0, gt=0, description="the whole answer of one banking call")
    banking_connect_timeout_s: float = Field(default=2.0, gt=0)
    banking_retries: int = Field(default=2, ge=0, le=5, description="retries on connect errors, timeouts, 502/503/504")
    banking_breaker_failures: int = Field(default=5, ge=1, description="failed calls in a row that open the circuit")
    banking_breaker_reset_s: float = Field(default=30.0, gt=0, description="open circuit: wait before one trial call")
    sandbox_port: int = 8100
    sandbox_data_dir: Path | None = Field(default=None, description="sandbox bank's files; default: data_dir/sandbox")
    sandbox_database_url: str | None = Field(default=None, description="sandbox bank's own database (SQLAlchemy "
                                             "URL); default: a SQLite file in sandbox_data_dir")
    identity_issuer: str = Field(default="https://sandbox.larkspur.example", description="`iss` of identity assertions")
    identity_audience: str = Field(default="bankassist", description="`aud` identity assertions must name")
    identity_jwks_path: Path | None = Field(default=None, description="the bank's public keys (JWKS file); "
                                            "default: the sandbox bank's jwks.json")
    identity_leeway_s: int = Field(default=30, ge=0, le=300, description="clock skew allowed on exp/iat/nbf")
    identity_max_lifetime_s: int = Field(default=900, ge=60, description="assertions valid longer than this are refused")

    @field_validator("llm_adapter_path", mode="before")
    @classmethod
    def _adapter_off(cls, value):
        # BANK_LLM_ADAPTER_PATH= (empty) switches the adapter off rather than meaning ".".
        if isinstance(value, str) and value.strip().lower() in ("", "none", "off", "false"):
            return None
        return value

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Settings:
        if self.environment == "production":
            problems = production_problems(self)
            if problems:
                raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    @property
    def llm_adapter(self) -> Path | None:
        """The adapter the local backend loads: the setting when given, else the shipped one
        for the default model (other models never get it: it only fits its own base)."""
        if not self.llm_use_adapter:
            return None
        if "llm_adapter_path" in self.model_fields_set:
            return self.llm_adapter_path
        if self.llm_model == DEFAULT_LLM_MODEL and (DEFAULT_LLM_ADAPTER / "adapter_config.json").exists():
            return DEFAULT_LLM_ADAPTER
        return None

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'bankassist.db'}"

    @property
    def sandbox_dir(self) -> Path:
        return self.sandbox_data_dir or (self.data_dir / "sandbox")

    @property
    def jwks_path(self) -> Path:
        return self.identity_jwks_path or (self.sandbox_dir / "jwks.json")

    @property
    def audit_key_path(self) -> Path:
        return self.audit_key_file or (self.data_dir / "audit.key")

    @property
    def audit_anchors_path(self) -> Path:
        return self.audit_anchors_file or (self.data_dir / "audit-anchors.jsonl")

    @property
    def index_dir(self) -> Path:
        return self.kb_index_dir or (self.data_dir / "kb_index")

    @property
    def models_cache(self) -> Path:
        return self.cache_dir / "models"

    @property
    def vector_cache(self) -> Path:
        return self.cache_dir / "vectors" / f"{Path(self.embedding_model).name}.sqlite"

    @property
    def rerank_vector_cache(self) -> Path:
        return self.cache_dir / "vectors" / f"{Path(self.rerank_model).name}.sqlite"


def offline_environment() -> None:
    """No hub access, ever: every model comes from a package or a local path. (Environment
    defaults the HF libraries read at import; the only place that writes them.)"""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def child_environment(**settings: str) -> dict[str, str]:
    """The environment for a child process this one starts (a server a bench runs): this
    process's own, offline, with `settings` (BANK_* names and values) on top."""
    offline_environment()
    return {**os.environ, **settings}
