"""A socket's bus forwarding ends with the socket, however `serve` ends; the Redis bus listener
survives messages and failures that are not a lost connection."""

import asyncio
import json
import uuid
from types import SimpleNamespace

import pytest

from assistant.api.sockets import CustomerSocket
from assistant.bus import InMemoryBus, RedisBus
from assistant.core.events import TurnStarted


class ScriptedSocket:
    """The websocket's side of the protocol: these text frames, then a disconnect."""

    def __init__(self, frames: list[str]) -> None:
        self.frames, self.sent = list(frames), []
        self.app = SimpleNamespace(state=SimpleNamespace(limiter=None))

    async def receive(self) -> dict:
        await asyncio.sleep(0)
        if self.frames:
            return {"type": "websocket.receive", "text": self.frames.pop(0)}
        return {"type": "websocket.disconnect"}

    async def send_json(self, frame: dict) -> None:
        self.sent.append(frame)


class Conversations:
    async def start_session_async(self, channel: str) -> tuple[str, str]:
        return "c-1", "cst_token"


class FailingPipeline:
    """A turn that fails after it started (an unexpected error inside the pipeline)."""

    async def run(self, turn):
        yield TurnStarted(turn.conversation_id)
        raise RuntimeError("pipeline bug")


def test_forwarding_stops_when_serve_ends_with_an_error():
    async def scenario():
        bus = InMemoryBus()
        services = SimpleNamespace(bus=bus, conversations=Conversations(), pipeline=FailingPipeline(),
                                   settings=SimpleNamespace(auth=SimpleNamespace(customer_session_ttl_h=24)))
        sock = CustomerSocket(ScriptedSocket([json.dumps({"message": "hello"})]), services)
        with pytest.raises(RuntimeError, match="pipeline bug"):
            await sock.serve()
        await asyncio.sleep(0.05)
        return {t: len(qs) for t, qs in bus._topics.items()}, sock._follower

    topics, follower = asyncio.run(scenario())
    assert topics == {} and follower is None  # nobody is left subscribed to conv:c-1


@pytest.mark.postgres  # the external services (this one needs Redis on 127.0.0.1:6379)
def test_redis_listener_survives_a_malformed_message():
    import redis

    async def scenario():
        prefix = f"test-{uuid.uuid4().hex[:8]}:"
        bus = RedisBus("redis://127.0.0.1:6379/0", prefix=prefix)
        raw = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        try:
            async with bus.subscribe("conv:x") as queue:
                raw.publish(prefix + "conv:x", b"\xff not json")  # someone else's bytes on our channel
                raw.publish(prefix + "conv:x", b"[1, 2]")
                await asyncio.sleep(0.2)
                await bus.publish("conv:x", {"type": "agent_message", "text": "still here"})
                got = await asyncio.wait_for(queue.get(), 5)
            return got, bus.dropped, bus._listener.done()
        finally:
            raw.close()
            await bus.close()

    got, dropped, listener_done = asyncio.run(scenario())
    assert got["text"] == "still here" and dropped == 2 and not listener_done
