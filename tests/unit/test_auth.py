"""Password policy, login throttle, log scrubbing and the agents/robots commands (issue 25)."""

import asyncio
import io
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.auth.passwords import WeakPassword, check_password
from assistant.auth.throttle import LoginThrottle
from assistant.config import Settings
from assistant.logging_setup import QueryStringFilter
from assistant.services import build_repositories

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("password, rule", [
    ("s3cret-pass", "12 characters"),            # 11
    ("qwerty123456", "common"),                  # on the list as it is
    ("Password2024!", "common"),                 # a listed word with digits and punctuation around it
    ("   DRAGON1234567", "common"),
    ("dana-wins-every-day", "username"),
])
def test_password_policy_refuses(password, rule):
    with pytest.raises(WeakPassword, match=rule):
        check_password(password, username="Dana")


def test_password_policy_accepts_a_long_uncommon_password():
    check_password("tangerine-ladder-42", username="dana")


def test_every_way_of_setting_a_password_applies_the_policy(tmp_path):
    agents = build_repositories(Settings(_env_file=None, storage={"data_dir": tmp_path})).agents
    with pytest.raises(WeakPassword):
        agents.add("sam", "password1")  # 8 characters passed before
    agents.add("sam", "tangerine-ladder-42")
    with pytest.raises(WeakPassword):
        agents.set_password("sam", "iloveyou12345")
    token = agents.issue_token(agents.authenticate("sam", "tangerine-ladder-42").id)
    assert agents.set_password("sam", "violet-harbour-7")
    assert agents.resolve(token) is None  # a new password ends the open sessions
    assert agents.authenticate("sam", "violet-harbour-7").username == "sam"


def test_throttle_tiers_lock_longer_as_failures_double():
    async def fail_twice(t):
        for _ in range(2):
            assert await t.attempt("dana", "10.0.0.1") is None
            await t.failed("10.0.0.1")
        return await t.attempt("dana", "10.0.0.1")

    async def run():
        t = LoginThrottle(per_account="2/2 seconds;4/hour", per_ip="100/minute")
        first = await fail_twice(t)
        again = await t.attempt("dana", "10.0.0.1")  # refused attempts are not counted
        await asyncio.sleep(2.1)
        return first, again, await fail_twice(t)

    first, again, second = asyncio.run(run())
    assert 0 < first.retry_after_s <= 2 and 0 < again.retry_after_s <= 2
    assert second.retry_after_s > 60  # 4 failures: the hour tier locks


def test_throttle_a_success_clears_the_account_but_not_the_address():
    async def run():
        t = LoginThrottle(per_account="2/minute", per_ip="3/minute")
        assert await t.attempt("dana", "10.0.0.2") is None
        await t.failed("10.0.0.2")
        assert await t.attempt("dana", "10.0.0.2") is None
        await t.succeeded("dana")
        assert await t.attempt("dana", "10.0.0.2") is None  # cleared: not locked after 3 attempts
        await t.failed("10.0.0.2")
        await t.failed("10.0.0.2")
        return await t.attempt("lee", "10.0.0.2")

    assert asyncio.run(run()) is not None  # 3 failures from the address lock every account there


def test_throttle_counts_are_shared_through_redis():
    import socket
    import uuid

    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", 6379)):
            pytest.skip("Redis is not running on 127.0.0.1:6379")

    async def run():
        prefix = f"test-{uuid.uuid4().hex[:8]}:"
        a, b = (LoginThrottle(per_account="2/minute", per_ip="100/minute", redis_url="redis://127.0.0.1:6379/0",
                              prefix=prefix) for _ in range(2))
        for _ in range(2):
            assert await a.attempt("dana", "10.0.0.3") is None
        return await b.attempt("dana", "10.0.0.4")

    assert asyncio.run(run()) is not None


def test_throttle_fails_open_when_its_store_is_down():
    t = LoginThrottle(per_account="1/minute", per_ip="1/minute", redis_url="redis://127.0.0.1:1/0")
    assert asyncio.run(t.attempt("dana", "10.0.0.5")) is None


def test_query_strings_are_scrubbed_from_every_log_line():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(QueryStringFilter())
    log = logging.getLogger("test.scrub")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning('%s - "WebSocket %s" [accepted]', "1.2.3.4:5", "/v1/agent/ws?token=SECRET1&x=2")
        log.warning("GET /v1/voice/pcm?rate=16000&session_token=cst_SECRET2 -> 101")
        log.warning("a question? with no query")
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert "SECRET" not in out
    assert "/v1/agent/ws?token=…&x=…" in out and "pcm?rate=…&session_token=…" in out and "question? with" in out
    start = time.perf_counter()
    QueryStringFilter().filter(logging.makeLogRecord({"msg": "/" * 20000 + "?" * 20000 + "a=b" * 5000}))
    assert time.perf_counter() - start < 0.5  # linear, whatever the line


def cli(args, data_dir, stdin=None):
    env = {**os.environ, "BANK_STORAGE__DATA_DIR": str(data_dir), "BANK_SERVER__LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], input=stdin, capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)


def test_agents_and_robots_commands(tmp_path):
    weak = cli(["agents", "add", "sam", "--password-stdin"], tmp_path, "letmein12345\n")
    assert weak.returncode == 2 and "common" in weak.stderr
    assert cli(["agents", "add", "sam", "--password-stdin"], tmp_path, "tangerine-ladder-42\n").returncode == 0
    repos = build_repositories(Settings(_env_file=None, storage={"data_dir": tmp_path}))
    token = repos.agents.issue_token(repos.agents.authenticate("sam", "tangerine-ladder-42").id)

    disabled = cli(["agents", "disable", "sam"], tmp_path)
    assert disabled.returncode == 0, disabled.stderr
    assert repos.agents.authenticate("sam", "tangerine-ladder-42") is None and repos.agents.resolve(token) is None
    assert cli(["agents", "enable", "sam"], tmp_path).returncode == 0
    assert repos.agents.authenticate("sam", "tangerine-ladder-42") is not None
    assert cli(["agents", "disable", "nobody"], tmp_path).returncode == 2
    short = cli(["agents", "passwd", "sam", "--password-stdin"], tmp_path, "too-short\n")
    assert short.returncode == 2 and "12 characters" in short.stderr

    added = cli(["robots", "add", "lobby-1", "--branch", "north"], tmp_path)
    robot_token = added.stdout.strip().splitlines()[-1]
    assert repos.robots.resolve(robot_token) is not None
    assert cli(["robots", "revoke", "lobby-1"], tmp_path).returncode == 0
    assert repos.robots.resolve(robot_token) is None
    assert cli(["robots", "revoke", "lobby-9"], tmp_path).returncode == 2
