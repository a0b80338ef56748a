"""Fuzzed frames on every websocket of the API, over a real socket (uvicorn in a thread).

Scripts come from tests/wsfuzz_frames.py (malformed and deeply nested JSON, wrong types, huge
strings, binary where text is expected, unknown types, unicode edge cases, valid-then-invalid
sequences, early closes). Each socket must answer a probe after the script or close with a proper
code within the bound; the server logs no error; afterwards /healthz answers and a valid session
still works. BANK_FUZZ_EXAMPLES sets the scripts per socket (tests/fuzz_budget.py).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
import traceback
import uuid
from collections import Counter

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from websockets.sync.client import connect

from assistant.api.app import create_app
from tests.banking_helpers import ServerThread
from tests.fuzz_budget import examples, report
from tests.wsfuzz_sockets import SPECS, Context, play

PORT = 8121
BOUND_S = 45.0  # a probe behind a model turn (SmolLM2, ASR) on a loaded CI box
AGENT_PW = "fuzz-agent-passphrase-2718"


class ErrorLog(logging.Handler):
    """Every ERROR record of the process: unhandled exceptions in ASGI apps and tasks end up here."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        """Each record with, for an exception, where it was raised (the last frames of its traceback)."""
        out = []
        for r in self.records:
            where = "".join(traceback.format_tb(r.exc_info[2])[-3:]) if r.exc_info and r.exc_info[2] else ""
            error = repr(r.exc_info[1]) if r.exc_info else ""
            out.append(f"{r.name}: {r.getMessage()[:200]} {error}\n{where}")
        return out


@pytest.fixture(scope="module")
def live(settings, services):
    fuzz_settings = settings.changed(
        voice__telephony=True, voice__twilio_auth_token=None, auth__ws_auth_timeout_s=3.0, voice__idle_timeout_s=8.0,
        robot__idle_timeout_s=8.0,
    )
    fuzz_services = dataclasses.replace(services, settings=fuzz_settings)
    with ServerThread(create_app(fuzz_settings, fuzz_services), port=PORT) as server:
        yield server


@pytest.fixture(scope="module")
def ctx(live, services) -> Context:
    """A customer conversation (with its token), a ticket claimed by a logged-in agent, a robot."""
    name = f"fuzz-agent-{time.monotonic_ns()}"
    services.agents.add(name, AGENT_PW)
    _, robot_token = services.robots.add(f"fuzz-robot-{time.monotonic_ns()}", "branch-fuzz")
    with httpx.Client(base_url=live.url, timeout=30) as http:
        conv = http.post("/v1/conversations", json={"channel": "web"}).json()
        auth = {"authorization": f"Bearer {conv['session_token']}"}
        ticket = http.post(f"/v1/conversations/{conv['conversation_id']}/handoff", headers=auth).json()["ticket_id"]
        token = http.post("/v1/agent/login", json={"username": name, "password": AGENT_PW}).json()["token"]
        assert http.post(f"/v1/agent/tickets/{ticket}/claim", headers={"authorization": f"Bearer {token}"}).status_code == 200
    return Context(agent_token=token, ticket_id=ticket, robot_token=robot_token,
                   conversation_id=conv["conversation_id"], session_token=conv["session_token"])


@pytest.fixture
def error_log():
    handler = ErrorLog()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


def call_token(base_url: str):
    """A fresh (single-use) call token from the Twilio voice webhook, with its CallSid."""
    def issue() -> tuple[str, str]:
        sid = "CA" + uuid.uuid4().hex
        xml = httpx.post(f"{base_url}/v1/voice/twiml", data={"CallSid": sid}, timeout=30).text
        return re.search(r'name="call_token" value="([^"]+)"', xml).group(1), sid
    return issue


def still_serving(live, ctx: Context) -> list[str]:
    """What is wrong with the server after the fuzzing: /healthz, and a valid robot session."""
    problems = []
    health = httpx.get(f"{live.url}/healthz", timeout=30)
    if health.status_code != 200:
        problems.append(f"/healthz answered {health.status_code}")
    with connect(f"ws://127.0.0.1:{PORT}/v1/robot", open_timeout=10) as ws:
        ws.send(json.dumps({"v": 1, "type": "hello", "token": ctx.robot_token}))
        if json.loads(ws.recv(timeout=30)).get("type") != "session":
            problems.append("a valid robot hello got no session")
    return problems


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_socket_survives_fuzzed_frames(live, ctx, spec, error_log):
    played = []

    @given(script=spec.scripts(ctx))
    @settings(max_examples=examples(6), deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])  # no shrinking: failures are collected with their scripts below
    def fuzz(script):
        t0 = time.monotonic()
        played.append((script, play(f"ws://127.0.0.1:{PORT}", spec, script, bound_s=BOUND_S,
                                    call_token=call_token(live.url)), time.monotonic() - t0))

    fuzz()
    time.sleep(0.5)  # work a closed socket left behind (a voice session's close) logs before we look
    bad = [f"{o.ending} code={o.code} {o.notes} <- {s.describe()[:400]}" for s, o, _ in played if not o.ok]
    endings = Counter(o.ending for _, o, _ in played)
    report(f"ws:{spec.name}", path=spec.path, scripts=len(played), frames_sent=sum(o.sent for _, o, _ in played),
           endings=dict(endings), close_codes=dict(Counter(o.code for _, o, _ in played if o.code)),
           hung=endings["hung"], server_errors=len(error_log.records),
           slowest_s=round(max((t for *_, t in played), default=0), 2))
    assert still_serving(live, ctx) == []
    assert error_log.records == [], "\n".join(error_log.lines()[:5])
    assert bad == [], "\n".join(bad[:10])
    assert len(played) >= min(examples(6), 3)
