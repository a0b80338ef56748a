"""Limits that hold whatever the transport (assistant/throttle.py), the agent queue under a flood,
and Redis that accepts connections but never answers: nothing hangs, the limiter fails open."""

import asyncio
import socket
import threading
import time

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.bus import RedisBus
from assistant.config import Settings, production_problems
from assistant.storage.db import make_engine, migrate, session_factory
from assistant.storage.repository import ConversationRepository
from assistant.storage.tickets import TicketRepository
from assistant.throttle import Limited, Throttle, ThrottledPipeline, bind, client_key, unbind

RULES = {"ip": "100/minute", "ws_connect": "100/minute", "turn": "2/minute", "conversation": "2/hour", "ticket": "1/hour"}


@pytest.fixture
def silent_redis():
    """A TCP server on 127.0.0.1 that accepts connections and never answers (a hung Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])  # read nothing, write nothing
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def test_client_key_groups_an_ipv6_subscriber_by_its_prefix():
    assert client_key("2001:db8:1:2::5") == client_key("2001:db8:1:2:ffff::6") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::5") != client_key("2001:db8:1:2::5")
    assert client_key("203.0.113.7") == "203.0.113.7" and client_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert client_key(None) == "unknown"


def test_production_refuses_a_wildcard_forwarded_allow_ips():
    def problems(ips: str) -> list[str]:
        return production_problems(Settings(_env_file=None, security={"forwarded_allow_ips": ips}))

    assert any("BANK_SECURITY__FORWARDED_ALLOW_IPS" in p for p in problems("*"))
    assert any("FORWARDED" in p for p in problems("10.0.0.2, *"))
    assert not any("FORWARDED" in p for p in problems("172.29.53.10"))


def test_turn_limit_counts_per_conversation_through_the_pipeline_wrapper():
    class Inner:
        async def run(self, turn):
            yield turn.text

    from assistant.core.events import UserTurn

    async def scenario():
        token = bind(Throttle(RULES), "203.0.113.7")
        try:
            pipeline, out = ThrottledPipeline(Inner()), []
            for cid in ("a", "a", "b", "a"):
                try:
                    out += [e async for e in pipeline.run(UserTurn("hi", "web", cid))]
                except Limited as exc:
                    out.append(f"429 {exc.rule} {exc.retry_after > 0}")
            return out
        finally:
            unbind(token)

    assert asyncio.run(scenario()) == ["hi", "hi", "hi", "429 turn True"]


def test_hung_redis_neither_hangs_nor_blocks_the_limiter(silent_redis):
    throttle = Throttle(RULES, redis_url=silent_redis, timeout_s=0.3)

    async def scenario():
        t0 = time.perf_counter()
        await asyncio.wait_for(throttle.check("ip", "203.0.113.7"), 5)  # fails open
        return time.perf_counter() - t0

    assert asyncio.run(scenario()) < 1.5
    assert b"bankassist_limit_store_failures_total 1.0" in throttle.render()


def test_hung_redis_does_not_hang_an_http_request(silent_redis, tmp_path):
    """Through the app's own middleware: before the timeout a request on today's code waited forever."""
    settings = Settings(_env_file=None, storage={"data_dir": tmp_path}, redis={"url": silent_redis, "timeout_s": 0.3})
    result: dict = {}

    def call() -> None:
        client = TestClient(create_app(settings, None))  # no lifespan: the models never load, /v1 answers 503
        result["status"] = client.get("/v1/kb/search", params={"q": "wire"}).status_code

    t0 = time.perf_counter()
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(10)
    elapsed = time.perf_counter() - t0
    assert not thread.is_alive(), "request hung on a silent Redis"
    assert result["status"] == 503 and elapsed < 2.5, elapsed  # redis-py's own 5 s default (or none) is too long


def test_hung_redis_does_not_hang_the_event_bus(silent_redis):
    async def scenario():
        bus = RedisBus(silent_redis, prefix="t:", timeout_s=0.3)
        try:
            async with bus.subscribe("conversation:c1") as queue:
                t0 = time.perf_counter()
                await asyncio.wait_for(bus.publish("conversation:c1", {"type": "x"}), 10)  # best effort
                alive = await asyncio.wait_for(bus.ping(), 10)
                relayed = queue.get_nowait()  # still delivered to this process's own subscribers
                return time.perf_counter() - t0, alive, relayed
        finally:
            await asyncio.wait_for(bus.close(), 5)

    elapsed, alive, relayed = asyncio.run(scenario())
    assert elapsed < 2.5 and alive is False and relayed == {"type": "x"}


def test_a_flood_of_anonymous_tickets_does_not_hide_claimed_or_robot_tickets(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    conv, tickets = ConversationRepository(sessions), TicketRepository(sessions)

    def ticket(branch=None):
        cid = conv.create("robot" if branch else "web")
        return tickets.create(cid, reason="explicit request for a human", channel="web", summary="", sentiment=None,
                              intents=[], branch_id=branch)

    early = ticket()
    flood = [ticket() for _ in range(30)]
    robot = ticket(branch="branch-7")
    held = ticket()
    from assistant.storage.agents import AgentRepository

    agent = AgentRepository(sessions).add("dana", "correct horse battery", display_name="Dana")
    tickets.claim(held.id, agent.id)
    shown = [t.id for t in tickets.list(limit=10)]
    assert shown[:3] == [held.id, robot.id, early.id]  # claimed, then authenticated devices, then oldest first
    assert shown[3:] == [t.id for t in flood[:7]]
