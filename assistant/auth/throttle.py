"""Agent login throttling: tiers of fixed windows per account and per client IP (`limits`).

Every tier must allow an attempt; a tier's window starts at its first counted attempt, so a
locked account waits until that window ends. Tiers grow faster than their counts (the default
5/minute; 10/15 minutes; 20/hour; 40/day): each doubling of failures waits much longer, an
exponential backoff. Per account, an attempt is counted before the password is checked (so
parallel guesses cannot slip past the count) and a success clears the account's counts; per
IP only failures count, so a call centre behind one address is not locked by its own logins.
With BANK_REDIS__URL the counts live in Redis and every API process sees them. If the count
store is unreachable, logins go on (fail open, logged), as the HTTP rate limit does.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Locked:
    retry_after_s: int


class LoginThrottle:
    def __init__(self, *, per_account: str, per_ip: str, redis_url: str | None = None, prefix: str = "") -> None:
        uri = ("async+" + redis_url) if redis_url else "async+memory://"
        # a hung Redis must not hang logins: short timeouts, then the fail-open path below
        options: dict[str, str | float] = {"implementation": "redispy", "socket_timeout": 2, "socket_connect_timeout": 2} if redis_url else {}
        self._limiter = FixedWindowRateLimiter(storage_from_string(uri, **options))
        self._account, self._ip = parse_many(per_account), parse_many(per_ip)
        self._prefix = prefix

    @classmethod
    def from_settings(cls, settings) -> LoginThrottle:
        return cls(per_account=settings.auth.agent_login_limits, per_ip=settings.auth.agent_login_ip_limits,
                   redis_url=settings.redis.url, prefix=settings.redis.prefix)

    def _account_key(self, username: str) -> tuple[str, str]:
        # hashed: any string may be typed as a username, and keys stay short
        return self._prefix + "login-account", hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]

    def _ip_key(self, ip: str) -> tuple[str, str]:
        return self._prefix + "login-ip", ip

    async def _wait(self, tiers: list[RateLimitItem], key: tuple[str, str]) -> int:
        """Seconds until every tier allows one more attempt (0: allowed now)."""
        wait = 0.0
        for tier in tiers:
            if not await self._limiter.test(tier, *key):
                stats = await self._limiter.get_window_stats(tier, *key)
                wait = max(wait, stats.reset_time - time.time(), 1.0)
        return math.ceil(wait)

    async def attempt(self, username: str, ip: str) -> Locked | None:
        """Count a login attempt before the password is checked; Locked when it must wait."""
        account, address = self._account_key(username), self._ip_key(ip)
        try:
            wait = max(await self._wait(self._account, account), await self._wait(self._ip, address))
            if not wait:
                allowed = [await self._limiter.hit(tier, *account) for tier in self._account]
                wait = 0 if all(allowed) else await self._wait(self._account, account) or 1
        except Exception as exc:  # count store (Redis) down
            log.warning("login throttle storage unavailable (%s); allowing", type(exc).__name__)
            return None
        return Locked(wait) if wait else None

    async def failed(self, ip: str) -> None:
        try:
            for tier in self._ip:
                await self._limiter.hit(tier, *self._ip_key(ip))
        except Exception as exc:
            log.warning("login throttle storage unavailable (%s)", type(exc).__name__)

    async def succeeded(self, username: str) -> None:
        try:
            for tier in self._account:
                await self._limiter.clear(tier, *self._account_key(username))
        except Exception as exc:
            log.warning("login throttle storage unavailable (%s)", type(exc).__name__)
