"""Old flat setting -> its place in a section (declared data table). BANK_VOICE_ENABLED is now
BANK_VOICE__ENABLED; an old name still in the environment stops start-up with the new one."""

from __future__ import annotations

import os

_SAME_NAME = {
    "server": ("host", "port", "log_level", "log_json", "max_message_chars"),
    "security": ("cors_origins", "forwarded_allow_ips", "admin_token"),
    "auth": ("agent_token_ttl_h", "agent_login_limits", "agent_login_ip_limits", "session_recheck_s",
             "ws_auth_timeout_s", "customer_session_ttl_h"),
    "storage": ("data_dir", "database_url", "cache_dir"),
    "retrieval": ("embedding_model", "embedding_runtime", "embedding_query_int8", "rerank_model"),
    "answering": ("retrieval_k", "context_k", "context_margin", "quote_categories", "scope_override_relevance",
                  "quote_figure_questions", "quote_sentences", "quote_context_margin", "quote_whole_document",
                  "link_domains", "topic_margin", "min_relevance", "faq_threshold", "history_turns"),
    "handoff": ("canned_replies", "agent_transfer_number"),
    "analytics": ("gap_distance", "gap_min_size"),
    "nlu": ("banking77_dir", "shared_data_dir"),
    "voice": ("twilio_auth_token",),
}
# section -> the prefix the old flat names had (voice_asr_model -> voice.asr_model)
_PREFIXED = {
    "rate_limit": ("rate_limit_", ("ip", "session", "ws_connect", "conversations", "tickets")),
    "redis": ("redis_", ("url", "prefix", "timeout_s")),
    "audit": ("audit_", ("retention_days", "key", "key_file", "anchors_file")),
    "llm": ("llm_", ("backend", "model", "adapter_path", "use_adapter", "dtype", "timeout_s", "queue_timeout_s",
                     "openai_url", "openai_model", "openai_api_key")),
    "robot": ("robot_", ("idle_timeout_s", "display")),
    "voice": ("voice_", ("enabled", "asr_model", "asr_language", "asr_beam_size", "asr_window", "asr_prompt",
                         "tts_length_scale", "vad_threshold", "min_speech_ms", "end_silence_ms", "silence_reprompt_s",
                         "max_reprompts", "greeting", "public_url", "hold_queue", "max_upload_mb", "telephony",
                         "max_audio_s", "idle_timeout_s", "csat")),
    "qa": ("qa_", ("enabled", "scorecard", "idle_minutes", "interval_s", "batch", "random_rate", "long_wait_minutes")),
    "banking": ("banking_", ("url", "api_token", "timeout_s", "connect_timeout_s", "retries", "breaker_failures",
                             "breaker_reset_s")),
    "sandbox": ("sandbox_", ("port", "data_dir", "database_url")),
    "identity": ("identity_", ("issuer", "audience", "jwks_path", "leeway_s", "max_lifetime_s")),
}
_OTHER = {
    "kb_docs_dir": "retrieval.docs_dir", "kb_index_dir": "retrieval.index_dir",
    "faq_fast_margin": "answering.fast_faq_margin", "llm_max_new_tokens": "answering.max_new_tokens",
    "handoff_policy": "handoff.policy", "intent_artifact_dir": "nlu.artifact_dir",
    "selfservice_enabled": "selfservice.enabled", "flows_dir": "selfservice.flows_dir",
    "flow_min_similarity": "selfservice.min_similarity", "flow_min_intent_confidence": "selfservice.min_intent_confidence",
}


def renamed_fields() -> dict[str, str]:
    """Old flat field -> "section.field"."""
    out = {name: f"{section}.{name}" for section, names in _SAME_NAME.items() for name in names}
    out |= {prefix + name: f"{section}.{name}" for section, (prefix, names) in _PREFIXED.items() for name in names}
    return out | _OTHER


def env_name(path: str) -> str:
    """"voice.asr_model" -> BANK_VOICE__ASR_MODEL; a top-level field "bank_name" -> BANK_BANK_NAME."""
    return "BANK_" + path.upper().replace(".", "__")


def renamed_env() -> dict[str, str]:
    """Old environment variable -> new one."""
    return {f"BANK_{old.upper()}": env_name(new) for old, new in renamed_fields().items()}


def old_names_in(environ: dict[str, str] | None = None) -> list[str]:
    """'BANK_X is now BANK_Y' for every old name set in the environment."""
    env = os.environ if environ is None else environ
    return [f"{old} is now {new}" for old, new in renamed_env().items() if old in env]
