"""The Redis bus across a Redis restart (its own redis-server, so it can be stopped and started).

Redis back, the listener still in its backoff: an event this process publishes reaches its own
subscribers at once, and the listener subscribes again within RedisBus.MAX_RETRY_S, so events
of other replicas flow again (bench/chaos_soak.py restarts the compose topology's Redis).
"""

import asyncio
import shutil
import socket
import subprocess
import time

import pytest
import redis

from assistant.bus import RedisBus

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed")


class RestartableRedis:
    def __init__(self, tmp_path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.dir, self.proc = tmp_path, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen([REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.dir)], stdout=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def server(tmp_path):
    r = RestartableRedis(tmp_path)
    r.start()
    yield r
    if r.proc.poll() is None:
        r.stop()


def test_events_flow_right_after_a_redis_restart(server):
    async def scenario():
        bus = RedisBus(server.url, prefix="restart:", timeout_s=0.5)
        other_replica = redis.Redis.from_url(server.url)
        try:
            async with bus.subscribe("conv:c1") as queue:
                await bus.publish("conv:c1", {"n": 1})
                first = await asyncio.wait_for(queue.get(), 5)
                server.stop()
                await asyncio.sleep(4)  # the listener's retries back off meanwhile
                server.start()
                await bus.publish("conv:c1", {"n": 2})  # Redis takes it; the listener is not back yet
                own = await asyncio.wait_for(queue.get(), 0.5)
                await asyncio.sleep(RedisBus.MAX_RETRY_S + 0.5)
                other_replica.publish("restart:conv:c1", b'{"n": 3}')
                relayed = await asyncio.wait_for(queue.get(), 2)
                return first, own, relayed, queue.empty()
        finally:
            other_replica.close()
            await asyncio.wait_for(bus.close(), 5)

    assert asyncio.run(scenario()) == ({"n": 1}, {"n": 2}, {"n": 3}, True)
