"""What production refuses: placeholder secrets, short tokens, a wildcard proxy or CORS origin."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.config import Settings

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


def _secret_problems(s: Settings) -> list[str]:
    out = []
    api_key = s.llm.openai_api_key
    tokens = {"BANK_SECURITY__ADMIN_TOKEN": s.security.admin_token,
              "BANK_VOICE__TWILIO_AUTH_TOKEN": s.voice.twilio_auth_token,
              "BANK_BANKING__API_TOKEN": s.banking.api_token,
              "BANK_LLM__OPENAI_API_KEY": None if api_key == "not-needed" else api_key}
    for name, value in tokens.items():
        if value is not None and (is_placeholder(value) or len(value) < 24):
            out.append(f"{name} is a placeholder or shorter than 24 characters (e.g. python -c 'import secrets; "
                       "print(secrets.token_urlsafe(32))')")
    for name, url in (("BANK_STORAGE__DATABASE_URL", s.storage.database_url), ("BANK_REDIS__URL", s.redis.url)):
        password = _url_password(url)
        if password is not None and (is_placeholder(password) or len(password) < 12):
            out.append(f"{name} has a placeholder or short password")
    key = s.audit.key
    if not key or is_placeholder(key) or len(key) < 32:
        out.append("BANK_AUDIT__KEY must be set to 32+ random characters (the audit chain's HMAC key, kept outside "
                   "the database)")
    return out


def production_problems(s: Settings) -> list[str]:
    """Every secret that is a placeholder or too short to be one, named by its setting."""
    out = _secret_problems(s)
    if s.voice.telephony and not s.voice.twilio_auth_token:
        out.append("BANK_VOICE__TWILIO_AUTH_TOKEN is required in production: it verifies Twilio's webhooks and media "
                   "streams (or set BANK_VOICE__TELEPHONY=false to turn the phone routes off)")
    if "*" in [ip.strip() for ip in s.security.forwarded_allow_ips.split(",")]:
        out.append("BANK_SECURITY__FORWARDED_ALLOW_IPS must name the reverse proxy's address, not '*' (any client "
                   "could choose the address the rate limits see)")
    if "*" in s.security.cors_origins:
        out.append("BANK_SECURITY__CORS_ORIGINS must list the widget's host pages, not '*'")
    return out
