"""Phone-call state every API replica shares: what to do when a stream closes, and used call tokens.

The media stream (on one replica) records the call's outcome by CallSid; Twilio's
<Connect action> request (`/v1/voice/twiml/next`) may land on another replica, which must
read it there, or a caller who asked for an agent is hung up. A call token is spent by the
first stream that shows it, on whichever replica. In memory for one process; in Redis when
BANK_REDIS__URL is set. If Redis fails, a replica keeps the state in its own memory (the
call still works when Twilio comes back to the same replica) and logs the failure.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from typing import Protocol

from assistant.channels.voice_types import CallOutcome

log = logging.getLogger(__name__)
OUTCOME_TTL_S = 3600  # Twilio asks for the action URL as soon as the stream closes
CLAIM_TTL_S = 600  # longer than a call token lives


class CallDirectory(Protocol):
    async def set(self, call_sid: str, outcome: CallOutcome) -> None: ...

    async def pop(self, call_sid: str) -> CallOutcome | None: ...

    async def claim(self, key: str) -> bool:
        """True the first time `key` is claimed (by any replica), False after."""
        ...


class MemoryCallDirectory:
    def __init__(self, ttl_s: float = OUTCOME_TTL_S) -> None:
        self._outcomes: dict[str, tuple[float, CallOutcome]] = {}  # call sid -> (when, outcome)
        self._claims: dict[str, float] = {}  # key -> when
        self._ttl = ttl_s

    def _purge(self) -> None:
        now = time.monotonic()
        self._outcomes = {k: v for k, v in self._outcomes.items() if now - v[0] < self._ttl}
        self._claims = {k: t for k, t in self._claims.items() if now - t < self._ttl}

    async def set(self, call_sid: str, outcome: CallOutcome) -> None:
        self._purge()
        self._outcomes[call_sid] = (time.monotonic(), outcome)

    async def pop(self, call_sid: str) -> CallOutcome | None:
        item = self._outcomes.pop(call_sid, None)
        return item[1] if item else None

    async def claim(self, key: str) -> bool:
        self._purge()
        if key in self._claims:
            return False
        self._claims[key] = time.monotonic()
        return True


class RedisCallDirectory:
    """Keys `{prefix}call:{CallSid}` (the outcome as JSON, GETDEL on read) and `{prefix}claim:{key}` (SET NX)."""

    def __init__(self, url: str, *, prefix: str = "bankassist:", timeout_s: float = 3.0) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        self._prefix = prefix
        self._local = MemoryCallDirectory()

    async def set(self, call_sid: str, outcome: CallOutcome) -> None:
        try:
            await self._redis.set(f"{self._prefix}call:{call_sid}", json.dumps(dataclasses.asdict(outcome)), ex=OUTCOME_TTL_S)
        except Exception as exc:  # any Redis failure: this replica still knows
            log.warning("call directory: Redis unavailable (%s); outcome kept in this process", type(exc).__name__)
            await self._local.set(call_sid, outcome)

    async def pop(self, call_sid: str) -> CallOutcome | None:
        try:
            raw = await self._redis.getdel(f"{self._prefix}call:{call_sid}")
        except Exception as exc:
            log.warning("call directory: Redis unavailable (%s); reading this process only", type(exc).__name__)
            raw = None
        local = await self._local.pop(call_sid)
        if raw is None:
            return local
        try:
            return CallOutcome(**json.loads(raw))
        except (ValueError, TypeError):
            log.warning("call directory: unreadable outcome for a call; hanging up")
            return None

    async def claim(self, key: str) -> bool:
        try:
            return bool(await self._redis.set(f"{self._prefix}claim:{key}", b"1", nx=True, ex=CLAIM_TTL_S))
        except Exception as exc:
            log.warning("call directory: Redis unavailable (%s); claim checked in this process only", type(exc).__name__)
            return await self._local.claim(key)

    async def close(self) -> None:
        await self._redis.aclose()


def build_call_directory(*, redis_url: str | None, prefix: str = "bankassist:") -> CallDirectory:
    return RedisCallDirectory(redis_url, prefix=prefix) if redis_url else MemoryCallDirectory()
