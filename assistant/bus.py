"""Publish/subscribe between customer sockets and agent sockets.

InMemoryBus serves one process; RedisBus the same interface across API processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

log = logging.getLogger(__name__)


class EventBus(Protocol):
    async def publish(self, topic: str, message: dict) -> None: ...

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[asyncio.Queue[dict]]: ...

    async def close(self) -> None: ...


class InMemoryBus:
    def __init__(self, max_queue: int = 1000) -> None:
        self._topics: dict[str, set[asyncio.Queue]] = {}
        self._max = max_queue

    async def publish(self, topic: str, message: dict) -> None:
        for q in list(self._topics.get(topic, ())):
            if q.full():  # a stuck subscriber loses its oldest event, never blocks the publisher
                q.get_nowait()
            q.put_nowait(message)

    async def close(self) -> None:
        self._topics.clear()

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[asyncio.Queue[dict]]:
        q: asyncio.Queue[dict] = asyncio.Queue(self._max)
        self._topics.setdefault(topic, set()).add(q)
        try:
            yield q
        finally:
            subs = self._topics.get(topic)
            if subs is not None:
                subs.discard(q)
                if not subs:
                    self._topics.pop(topic, None)


def conversation_topic(conversation_id: str) -> str:
    return f"conv:{conversation_id}"


AGENTS_TOPIC = "agents"


class RedisBus:
    """The same interface across API processes, over Redis pub/sub.

    Each process holds one pattern subscription (`prefix*`) on one connection and fans the
    messages out to its local subscribers, so 200 open chat sockets cost one Redis
    connection and no subscribe/unsubscribe traffic. If Redis drops, the listener reconnects
    with backoff (0.5 s doubling to at most MAX_RETRY_S); the database stays the source of
    truth, so a missed notification costs a refresh, never data. While the listener is not
    subscribed, an event this process publishes is also delivered to its own subscribers (e.g.
    Redis is back and the listener waits out its backoff: an agent's message still reaches a
    customer on the same replica). One published in the instant the listener subscribes again
    may then arrive twice; never zero times.
    """

    MAX_RETRY_S = 2.0  # a Redis restart costs at most this much of other replicas' events

    def __init__(self, url: str, *, prefix: str = "bankassist:", max_queue: int = 1000, timeout_s: float = 1.0) -> None:
        import redis.asyncio as aioredis

        # Commands (publish, ping) give up after timeout_s: a hung Redis never holds a turn. The
        # listener's connection has no read timeout (idle is normal there); its subscribe gives up
        # after timeout_s and retries, and TCP keepalive notices a peer that vanished.
        self._redis = aioredis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        self._sub = aioredis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_keepalive=True,
                                            health_check_interval=15)
        self._timeout = timeout_s
        self._prefix = prefix
        self._local = InMemoryBus(max_queue)
        self._listener: asyncio.Task | None = None
        self._ready: asyncio.Event | None = None
        self._subscribed = False  # the listener holds its subscription: Redis relays this process's events back
        self.dropped = 0  # malformed messages skipped
        self.failures = 0  # listener failures other than a lost connection (each followed by a resubscribe)

    async def publish(self, topic: str, message: dict) -> None:
        """Best effort: with Redis down the turn still completes; clients catch up from the database."""
        import redis.exceptions

        subscribed = self._subscribed  # read before publishing: see the class docstring
        try:
            await self._redis.publish(self._prefix + topic, json.dumps(message))
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            log.warning("redis bus unavailable, event on %s not relayed: %s", topic.split(":")[0], type(exc).__name__)
            subscribed = False
        if not subscribed:
            await self._local.publish(topic, message)  # subscribers in this process still get it

    async def _listen(self, ready: asyncio.Event) -> None:
        """Fan Redis messages out to this process's subscribers for as long as the bus is open:
        a message that is not valid JSON is dropped (logged, counted); any other failure, not
        only a lost connection, is logged and counted, and the listener subscribes again."""
        import redis.exceptions

        delay = 0.5
        while True:
            pubsub = self._sub.pubsub(ignore_subscribe_messages=True)
            try:
                await asyncio.wait_for(pubsub.psubscribe(self._prefix + "*"), self._timeout)
                self._subscribed = True
                ready.set()
                delay = 0.5
                async for msg in pubsub.listen():
                    if msg.get("type") == "pmessage":
                        await self._deliver(msg)
            except asyncio.CancelledError:
                raise
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
                log.warning("redis bus disconnected; retrying in %.1f s", delay)
            except TimeoutError:
                log.warning("redis bus: subscribe timed out; retrying in %.1f s", delay)
            except Exception as exc:
                self.failures += 1
                log.error("redis bus listener failed (%s); subscribing again in %.1f s", type(exc).__name__, delay)
            finally:
                self._subscribed = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.MAX_RETRY_S)

    async def _deliver(self, msg: dict) -> None:
        try:
            topic = msg["channel"].decode()[len(self._prefix):]
            event = json.loads(msg["data"])
            if not isinstance(event, dict):
                raise ValueError("not a JSON object")
        except (ValueError, AttributeError, KeyError) as exc:
            self.dropped += 1  # the content is not logged: it may hold a customer's words
            log.warning("redis bus: dropped a malformed message (%s)", type(exc).__name__)
            return
        await self._local.publish(topic, event)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[asyncio.Queue[dict]]:
        if self._listener is None or self._listener.done() or self._ready is None:
            self._ready = asyncio.Event()
            self._listener = asyncio.create_task(self._listen(self._ready))
        ready = self._ready
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), 3)  # Redis down: local events still flow
        async with self._local.subscribe(topic) as queue:
            yield queue

    async def ping(self) -> bool:
        """False when Redis is down or does not answer within the timeout."""
        import redis.exceptions

        try:
            return bool(await self._redis.ping())
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
            return False

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        await self._redis.aclose()
        await self._sub.aclose()
