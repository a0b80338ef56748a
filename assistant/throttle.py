"""Abuse limits shared by every channel: one Throttle per app, in memory or in Redis (across replicas).

Rules, each a setting in `limits` notation ("30/minute", "20/hour"):
- requests per client on the /v1 HTTP routes (BANK_RATE_LIMIT__IP);
- websocket handshakes per client, on every socket (BANK_RATE_LIMIT__WS_CONNECT);
- customer turns per conversation, whichever transport carries them: REST /v1/chat, the chat
  socket, lobby robots, voice (BANK_RATE_LIMIT__SESSION);
- new conversations per client (BANK_RATE_LIMIT__CONVERSATIONS);
- new hand-off tickets per client (BANK_RATE_LIMIT__TICKETS).

A client is the address the trusted proxy reports (an IPv6 address counts by its /64, one
subscriber's prefix: 2001:db8:1:2::5 and 2001:db8:1:2::6 are one client), or `robot:<id>` for an
authenticated lobby robot. Twilio media streams have no per-client quota: Twilio's servers carry
every caller (their handshake rate still counts per address).

A limit that is reached raises `Limited`: HTTP answers 429 with Retry-After, a socket handshake
is closed with code 4429 and the message as reason, a turn on an open socket gets an error frame.

The limit store failing, or not answering within BANK_REDIS__TIMEOUT_S, lets the request through
(fail open: a Redis outage must not lock every customer out), logs a warning and counts
bankassist_limit_store_failures_total. Nothing waits on the store longer than that timeout.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from limits import parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from prometheus_client import CollectorRegistry, Counter, generate_latest

if TYPE_CHECKING:
    from assistant.core.events import Event, UserTurn
    from assistant.core.pipeline import DialoguePipeline

log = logging.getLogger(__name__)

CLOSE_LIMITED = 4429  # websocket close code: a limit was reached (the reason says which and when to retry)

MESSAGES = {
    "ip": "too many requests",
    "ws_connect": "too many connections from your address",
    "turn": "too many messages in this conversation",
    "conversation": "too many new conversations from your address",
    "ticket": "too many requests for an agent from your address",
}


class Limited(Exception):
    """A limit was reached. `message` is safe to show the client; `retry_after` is in seconds."""

    def __init__(self, rule: str, retry_after: int) -> None:
        self.rule, self.retry_after = rule, retry_after
        self.message = f"{MESSAGES[rule]}; retry in {retry_after} s"
        super().__init__(self.message)


def client_key(host: str | None) -> str:
    """The client an address belongs to: IPv4 as is, IPv6 by its /64 (e.g. '2001:db8:1:2::/64')."""
    if not host:
        return "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:  # a test client's name, a unix socket
        return host[:64]
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


class Throttle:
    """Sliding-window counters for every rule above, in one storage.

    The sliding-window counter (two counters per key, weighted), not the moving window: the
    in-memory moving window expires its event lists with one worker-thread job per key after
    every hit, which under 200 sessions flooded the thread pool the turns run on."""

    def __init__(self, rules: dict[str, str], *, redis_url: str | None = None, timeout_s: float = 1.0) -> None:
        if redis_url:
            # redis-py is installed already; without socket timeouts a hung Redis hangs every request.
            storage = storage_from_string("async+" + redis_url, implementation="redispy",
                                          socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        else:
            storage = storage_from_string("async+memory://")
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self.rules = {name: parse(value) for name, value in rules.items()}
        self.registry = CollectorRegistry()
        self.limited = Counter("bankassist_rate_limited_total", "Requests refused by a limit, by rule", ["rule"],
                               registry=self.registry)
        self.store_failures = Counter("bankassist_limit_store_failures_total",
                                      "Limit checks let through because the limit store failed or timed out",
                                      registry=self.registry)

    @classmethod
    def from_settings(cls, settings) -> Throttle:
        rules = {"ip": settings.rate_limit.ip, "ws_connect": settings.rate_limit.ws_connect,
                 "turn": settings.rate_limit.session, "conversation": settings.rate_limit.conversations,
                 "ticket": settings.rate_limit.tickets}
        return cls(rules, redis_url=settings.redis.url, timeout_s=settings.redis.timeout_s)

    async def check(self, rule: str, key: str) -> None:
        """Count one event for `key` under `rule`; raise Limited when over the limit."""
        limit = self.rules[rule]
        try:
            allowed = await self._limiter.hit(limit, rule, key)
        except Exception as exc:  # store down or silent past its timeout: fail open (module docstring)
            log.warning("rate-limit store unavailable (%s); allowing", type(exc).__name__)
            self.store_failures.inc()
            return
        if not allowed:
            self.limited.labels(rule).inc()
            raise Limited(rule, await self._retry_after(limit, rule, key))

    async def _retry_after(self, limit, rule: str, key: str) -> int:
        try:
            stats = await self._limiter.get_window_stats(limit, rule, key)
        except Exception:  # the hit just worked; a failure here still must not turn into a 500
            return 1
        return max(1, math.ceil(stats.reset_time - time.time()))

    def render(self) -> bytes:
        return generate_latest(self.registry)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who the current request or socket acts for. client None: no per-client quota."""

    throttle: Throttle
    client: str | None


_CALLER: ContextVar[Caller | None] = ContextVar("bankassist_caller", default=None)


def bind(throttle: Throttle, client: str | None) -> Token:
    """Set the caller for this request or socket (and every task it starts); undo with unbind."""
    return _CALLER.set(Caller(throttle, client))


def unbind(token: Token) -> None:
    _CALLER.reset(token)


def rebind_client(client: str | None) -> None:
    """A socket that authenticated (a robot) counts as `client` from now on."""
    caller = _CALLER.get()
    if caller is not None:
        _CALLER.set(Caller(caller.throttle, client))


async def check_turn(conversation_id: str) -> None:
    """One customer turn in `conversation_id` (no-op outside a request, e.g. the CLI)."""
    caller = _CALLER.get()
    if caller is not None:
        await caller.throttle.check("turn", conversation_id)


async def check_new_conversation() -> None:
    caller = _CALLER.get()
    if caller is not None and caller.client is not None:
        await caller.throttle.check("conversation", caller.client)


async def check_new_ticket() -> None:
    caller = _CALLER.get()
    if caller is not None and caller.client is not None:
        await caller.throttle.check("ticket", caller.client)


class ThrottledPipeline:
    """The dialogue pipeline behind the per-conversation turn limit, for every transport that runs it."""

    def __init__(self, inner: DialoguePipeline) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:  # the rest of the pipeline (system_prompt, answerer), for tests and tools
        return getattr(self.inner, name)

    async def run(self, turn: UserTurn) -> AsyncIterator[Event]:
        if turn.conversation_id is not None:
            await check_turn(turn.conversation_id)
        async for event in self.inner.run(turn):
            yield event
