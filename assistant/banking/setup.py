"""Build the banking client, the identity verifier and the sandbox bank's config from Settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.banking.breaker import CircuitBreaker
from assistant.banking.http import HttpBankingBackend
from assistant.banking.identity import IdentityVerifier, SqlReplayStore
from assistant.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from sandbox_bank import SandboxConfig


def build_banking_backend(settings: Settings) -> HttpBankingBackend:
    return HttpBankingBackend(
        settings.banking.url, api_token=settings.banking.api_token, timeout_s=settings.banking.timeout_s,
        connect_timeout_s=settings.banking.connect_timeout_s, retries=settings.banking.retries,
        breaker=CircuitBreaker(failure_threshold=settings.banking.breaker_failures,
                               reset_after_s=settings.banking.breaker_reset_s))


def build_identity_verifier(settings: Settings, sessions: sessionmaker[Session]) -> IdentityVerifier:
    return IdentityVerifier(jwks_path=settings.jwks_path, issuer=settings.identity.issuer,
                            audience=settings.identity.audience, replay_store=SqlReplayStore(sessions),
                            leeway_s=settings.identity.leeway_s, max_lifetime_s=settings.identity.max_lifetime_s)


def sandbox_config(settings: Settings) -> SandboxConfig:
    from sandbox_bank import SandboxConfig

    return SandboxConfig(data_dir=settings.sandbox_dir, db_url=settings.sandbox.database_url,
                         issuer=settings.identity.issuer, audience=settings.identity.audience,
                         api_token=settings.banking.api_token)
