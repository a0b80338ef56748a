"""Publish/subscribe between the parts of one process (customer sockets, agent sockets).

The interface is what a Redis-backed bus implements for several API processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol


class EventBus(Protocol):
    async def publish(self, topic: str, message: dict) -> None: ...

    def subscribe(self, topic: str) -> AsyncIterator[asyncio.Queue]: ...


class InMemoryBus:
    def __init__(self, max_queue: int = 1000) -> None:
        self._topics: dict[str, set[asyncio.Queue]] = {}
        self._max = max_queue

    async def publish(self, topic: str, message: dict) -> None:
        for q in list(self._topics.get(topic, ())):
            if q.full():  # a stuck subscriber loses its oldest event, never blocks the publisher
                q.get_nowait()
            q.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, topic: str):
        q: asyncio.Queue = asyncio.Queue(self._max)
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
