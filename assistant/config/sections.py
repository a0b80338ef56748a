"""Settings sections for serving the API: server, security, sign-in, limits, storage, audit.

Each section is one environment prefix: `BANK_<SECTION>__<FIELD>`, e.g. BANK_REDIS__URL. Every
value has its one default here; the rest of the code reads the section it needs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


class Section(BaseModel):
    """A settings section: unknown names are refused (a typo in BANK_X__Y fails at start)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(Section):
    host: str = Field(default="127.0.0.1", description="address `bankassist serve` listens on")
    port: int = Field(default=8000, description="its port")
    log_level: str = Field(default="INFO", description="DEBUG | INFO | WARNING | ERROR")
    log_json: bool = Field(default=False, description="one JSON object per log line")
    max_message_chars: int = Field(default=4000, description="a customer message is cut to this many characters")


class SecuritySettings(Section):
    admin_token: str | None = Field(default=None, description="bearer token for /v1/admin (unset: admin API off)")
    cors_origins: list[str] = Field(default_factory=list, description="host pages allowed to call the API (widget), e.g. "
                                    "[\"https://www.bank.example\"]; production refuses '*'")
    forwarded_allow_ips: str = Field(default="127.0.0.1", description="the reverse proxy's address(es), trusted for "
                                     "X-Forwarded-For; never '*' (any client could pick the address limits see)")


class RateLimitSettings(Section):
    """Limits (assistant/throttle.py): a client is an IP (IPv6: its /64) or an authenticated robot."""

    ip: str = Field(default="300/minute", description="HTTP requests per client")
    session: str = Field(default="30/minute", description="customer turns per conversation, every transport "
                         "(REST, chat socket, robot, voice)")
    ws_connect: str = Field(default="60/minute", description="websocket handshakes per client, every socket")
    conversations: str = Field(default="60/hour", description="new conversations per client")
    tickets: str = Field(default="10/hour", description="new hand-off tickets per client")


class AuthSettings(Section):
    """Sign-in and sessions of agents, robots and customers (assistant/auth/)."""

    agent_token_ttl_h: float = Field(default=12.0, gt=0, description="an agent's login token is valid this long")
    agent_login_limits: str = Field(
        default="5/minute;10/15 minutes;20/hour;40/day",
        description="login attempts per account; every tier must allow one (each doubling waits longer); a success resets")
    agent_login_ip_limits: str = Field(
        default="20/minute;100/hour;300/day", description="failed agent logins per client IP, in tiers")
    session_recheck_s: float = Field(
        default=30.0, gt=0, description="live agent and robot sockets re-check their token (revoked, expired) this often")
    ws_auth_timeout_s: float = Field(default=10.0, gt=0, description="a socket's first frame {type: auth} must come this soon")
    customer_session_ttl_h: float = Field(default=24.0, gt=0,
                                          description="a customer's session token expires this long after it was issued")


class StorageSettings(Section):
    data_dir: Path = Field(default=PROJECT_ROOT / "var", description="the database file, index, keys and sandbox bank")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default is a SQLite file in data_dir")
    cache_dir: Path = Field(default=Path.home() / ".cache" / "bankassist",
                            description="converted models and vectors, outside the clone so fresh clones reuse them",
                            json_schema_extra={"shown": "~/.cache/bankassist"})


class RedisSettings(Section):
    url: str | None = Field(default=None, description="redis://host:6379/0 to share live events, rate limits and call "
                               "state between API processes")
    prefix: str = Field(default="bankassist:", description="prefix of every key and channel this assistant uses")
    timeout_s: float = Field(default=1.0, gt=0, description="connect and reply timeout of every Redis call; past it "
                             "the limiter lets the request through and the bus drops the event")


class AuditSettings(Section):
    """The audit chain (assistant/audit.py, audit_anchors.py); its key lives outside the database."""

    retention_days: int = Field(default=2555, description="audit records kept this long (default ~7 years)")
    key: str | None = Field(default=None, description="HMAC key of the audit chain, 32+ random characters, the "
                            "same on every replica (required in production); unset: the key file")
    key_file: Path | None = Field(default=None, description="key used when BANK_AUDIT__KEY is unset, created with "
                                  "mode 0600 on first start (default data_dir/audit.key)")
    anchors_file: Path | None = Field(default=None, description="append-only file `bankassist audit anchor` writes "
                                      "the chain's head to (default data_dir/audit-anchors.jsonl)")


class HandoffSettings(Section):
    policy: Path = Field(default=PROJECT_ROOT / "assistant" / "handoff" / "policy.yaml",
                         description="when to hand off (YAML, checked at start-up)")
    canned_replies: Path = Field(default=PROJECT_ROOT / "assistant" / "handoff" / "canned.yaml",
                                 description="agents' canned replies (a YAML list of strings)")
    agent_transfer_number: str | None = Field(default=None, description="phone number voice calls are transferred to")


class RobotSettings(Section):
    idle_timeout_s: float = Field(default=120.0, description="a robot socket that receives nothing this long is closed")
    display: Path = Field(default=PROJECT_ROOT / "assistant" / "channels" / "robot_display.yaml",
                          description="which service or counter a robot shows for an answer's topic")


class AnalyticsSettings(Section):
    """The supervisor dashboard (assistant/analytics/, docs/analytics.md)."""

    gap_distance: float = Field(default=0.45, gt=0, lt=2, description="knowledge gaps: average cosine distance under "
                                "which gap questions form one cluster (bench/gap_clusters.py)")
    gap_min_size: int = Field(default=3, ge=2, description="knowledge gaps: questions a cluster needs to be a gap")


class QaSettings(Section):
    """Quality inspection (assistant/qa/, /console/qa)."""

    enabled: bool = Field(default=True, description="score closed conversations in the background")
    scorecard: Path | None = Field(default=None, description="scorecard YAML; default assistant/qa/scorecards/default-v1.yaml")
    idle_minutes: float = Field(default=30.0, ge=0, description="a conversation nobody wrote in for this long is closed")
    interval_s: float = Field(default=60.0, gt=0, description="the scoring worker wakes this often")
    batch: int = Field(default=50, ge=1, description="conversations scored per wake-up")
    random_rate: float = Field(default=0.05, ge=0, le=1, description="share sent to review whatever their risk")
    long_wait_minutes: float = Field(default=10.0, gt=0, description="a hand-off waiting longer is a review risk")
    seed: int | None = Field(default=None, description="seed of the random review sample (tests); unset: random")
