"""Everything the sandbox bank is told from outside (the assistant's Settings fill it in)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SandboxConfig:
    data_dir: Path
    db_url: str | None = None  # default: a SQLite file in data_dir
    issuer: str = "https://sandbox.larkspur.example"
    audience: str = "bankassist"
    api_token: str | None = None  # when set, every /v1 request needs `Authorization: Bearer <token>`
    currency: str = "USD"
    otp_ttl_s: int = 300
    otp_max_attempts: int = 3
    otp_lockout_s: int = 900  # after the 3rd wrong code no code is sent or checked for this long
    step_up_valid_s: int = 300  # a verified code authorises one action within this window
    single_transfer_limit_cents: int = 1_000_000  # $10,000.00 per transfer
    daily_payee_limit_cents: int = 500_000  # $5,000.00 a day to payees, per customer
    assertion_ttl_s: int = 300
    seed: int = 26
    clock: Callable[[], datetime] = field(default=utcnow, compare=False)  # aware datetimes; tests move time forward

    @property
    def sqlalchemy_url(self) -> str:
        return self.db_url or f"sqlite:///{self.data_dir / 'sandbox_bank.db'}"

    @property
    def jwks_path(self) -> Path:
        return self.data_dir / "jwks.json"

    @property
    def signing_key_path(self) -> Path:
        return self.data_dir / "signing_key.pem"

    def now(self) -> datetime:
        return self.clock()
