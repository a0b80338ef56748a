"""The one place configuration is read: environment variables BANK_<SECTION>__<FIELD> and .env.

Settings are grouped in sections (`settings.voice.silence_reprompt_s` is BANK_VOICE__SILENCE_REPROMPT_S);
each value has one default, in its section's model. The reference is generated: docs/settings.md
(`python -m assistant.config.reference --write`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.config.answering import (
    DEFAULT_BANK_NAME,
    DEFAULT_LLM_ADAPTER,
    DEFAULT_LLM_MODEL,
    AnsweringSettings,
    LlmSettings,
    NluSettings,
    RetrievalSettings,
)
from assistant.config.channels import (
    BankingSettings,
    IdentitySettings,
    SandboxSettings,
    SelfServiceSettings,
    VoiceSettings,
)
from assistant.config.production import is_placeholder, production_problems
from assistant.config.renamed import old_names_in
from assistant.config.sections import (
    PROJECT_ROOT,
    AnalyticsSettings,
    AuditSettings,
    AuthSettings,
    HandoffSettings,
    QaSettings,
    RateLimitSettings,
    RedisSettings,
    RobotSettings,
    Section,
    SecuritySettings,
    ServerSettings,
    StorageSettings,
)

__all__ = [
    "DEFAULT_BANK_NAME", "DEFAULT_LLM_ADAPTER", "DEFAULT_LLM_MODEL", "PROJECT_ROOT", "AnalyticsSettings",
    "AnsweringSettings", "QaSettings", "Settings", "child_environment", "is_placeholder", "offline_environment", "production_problems",
]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANK_", env_file=".env", extra="ignore", env_nested_delimiter="__")

    bank_name: str = Field(default=DEFAULT_BANK_NAME, description="the bank the assistant speaks for")
    environment: Literal["dev", "production"] = Field(
        default="dev", description="production refuses placeholder secrets, short tokens and a wildcard CORS origin")
    torch_threads: int = Field(default=1, ge=1, description="threads per model (torch, and llama.cpp's decode); on 2 "
                               "cores more threads made queries slower under load")

    server: ServerSettings = Field(default_factory=ServerSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answering: AnsweringSettings = Field(default_factory=AnsweringSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    nlu: NluSettings = Field(default_factory=NluSettings)
    handoff: HandoffSettings = Field(default_factory=HandoffSettings)
    robot: RobotSettings = Field(default_factory=RobotSettings)
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    qa: QaSettings = Field(default_factory=QaSettings)
    selfservice: SelfServiceSettings = Field(default_factory=SelfServiceSettings)
    banking: BankingSettings = Field(default_factory=BankingSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)

    def __init__(self, **values: Any) -> None:
        """Keywords name settings or sections (`Settings(voice={"csat": False})`); an old flat name or a typo
        raises instead of being ignored (environment variables and .env are checked in `_checked`)."""
        unknown = sorted(k for k in values if not k.startswith("_") and k not in type(self).model_fields)
        if unknown:
            raise TypeError(f"no setting {', '.join(unknown)} (docs/settings.md)")
        super().__init__(**values)

    @model_validator(mode="after")
    def _checked(self) -> Settings:
        renamed = old_names_in()
        if renamed:
            raise ValueError("renamed settings (docs/settings.md): " + "; ".join(renamed))
        if self.environment == "production":
            problems = production_problems(self)
            if problems:
                raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    def changed(self, **updates: Any) -> Settings:
        """A copy with some values replaced, named like the variables: `changed(voice__telephony=False,
        bank_name="X")`. An unknown name raises (a typo must not pass silently)."""
        top: dict[str, Any] = {}
        sections: dict[str, dict[str, Any]] = {}
        for key, value in updates.items():
            section, _, name = key.partition("__")
            known = name in _SECTIONS[section].model_fields if section in _SECTIONS else not name and key in type(self).model_fields
            if not known:
                raise KeyError(f"no setting {key!r}")
            if name:
                sections.setdefault(section, {})[name] = value
            else:
                top[key] = value
        for section, values in sections.items():
            top[section] = getattr(self, section).model_copy(update=values)
        return self.model_copy(update=top)

    @property
    def sqlalchemy_url(self) -> str:
        return self.storage.database_url or f"sqlite:///{self.storage.data_dir / 'bankassist.db'}"

    @property
    def sandbox_dir(self) -> Path:
        return self.sandbox.data_dir or (self.storage.data_dir / "sandbox")

    @property
    def jwks_path(self) -> Path:
        return self.identity.jwks_path or (self.sandbox_dir / "jwks.json")

    @property
    def audit_key_path(self) -> Path:
        return self.audit.key_file or (self.storage.data_dir / "audit.key")

    @property
    def audit_anchors_path(self) -> Path:
        return self.audit.anchors_file or (self.storage.data_dir / "audit-anchors.jsonl")

    @property
    def index_dir(self) -> Path:
        return self.retrieval.index_dir or (self.storage.data_dir / "kb_index")

    @property
    def models_cache(self) -> Path:
        return self.storage.cache_dir / "models"

    @property
    def vector_cache(self) -> Path:
        return self.storage.cache_dir / "vectors" / f"{Path(self.retrieval.embedding_model).name}.sqlite"

    @property
    def rerank_vector_cache(self) -> Path:
        return self.storage.cache_dir / "vectors" / f"{Path(self.retrieval.rerank_model).name}.sqlite"


# section name -> its model ("voice" -> VoiceSettings)
_SECTIONS: dict[str, type[Section]] = {name: field.annotation for name, field in Settings.model_fields.items()
                                       if isinstance(field.annotation, type) and issubclass(field.annotation, Section)}


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
