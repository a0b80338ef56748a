"""Rate limits (the `limits` library; in memory, or Redis across processes) and security headers."""

from __future__ import annotations

import logging
import math
import time

from limits import parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

log = logging.getLogger(__name__)
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), geolocation=(), microphone=(self)",
    "cache-control": "no-store",
}


class RateLimiter:
    """Sliding-window limits per client IP (HTTP) and per chat/robot session (messages).

    The sliding-window counter (two counters per key, weighted), not the moving window: the
    in-memory moving window expires its event lists with one worker-thread job per key after
    every hit, which under 200 sessions flooded the thread pool the turns run on
    (bench/load_faq.py, py-spy: 11 % of the server's Python time in `__expire_events`)."""

    def __init__(self, *, per_ip: str, per_session: str, redis_url: str | None = None) -> None:
        uri = ("async+" + redis_url) if redis_url else "async+memory://"
        options = {"implementation": "redispy"} if redis_url else {}  # redis-py is installed already
        self._limiter = SlidingWindowCounterRateLimiter(storage_from_string(uri, **options))
        self.per_ip, self.per_session = parse(per_ip), parse(per_session)

    async def _hit(self, limit, *keys: str) -> bool:
        try:
            return await self._limiter.hit(limit, *keys)
        except Exception as exc:  # limit storage (Redis) down: fail open rather than refuse every customer
            log.warning("rate-limit storage unavailable (%s); allowing", type(exc).__name__)
            return True

    async def allow_ip(self, ip: str) -> bool:
        return await self._hit(self.per_ip, "ip", ip)

    async def allow_session(self, session: str) -> bool:
        return await self._hit(self.per_session, "session", session)

    async def retry_after_ip(self, ip: str) -> int:
        stats = await self._limiter.get_window_stats(self.per_ip, "ip", ip)
        return max(1, math.ceil(stats.reset_time - time.time()))


def security_headers(path: str, headers) -> None:
    for k, v in HEADERS.items():
        headers.setdefault(k, v)
    if not path.startswith(("/v1/", "/metrics", "/healthz", "/static/")):
        headers.setdefault("content-security-policy", PAGE_CSP)
