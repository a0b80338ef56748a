"""Faults on loopback: LLM down, database down, Redis down, kill -9 mid-conversation."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from assistant.api.app import create_app
from assistant.config import Settings
from assistant.services import build_services
from assistant.storage.db import make_engine
from tests.conftest import auth

BIN = Path(sys.executable).parent / "bankassist"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def wait_ready(port: int, proc=None, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("server did not become ready")

def test_llm_server_down_gives_extractive_answer(tmp_path, settings):
    dead = Settings(
        _env_file=None, storage={"data_dir": settings.storage.data_dir},
        llm={"backend": "openai", "openai_url": f"http://127.0.0.1:{free_port()}/v1", "timeout_s": 2},
        voice={"enabled": False},
    )
    with TestClient(create_app(dead, build_services(dead))) as c:
        # a question the model answers (figure and regulation questions are quoted without it)
        body = c.post("/v1/chat", json={"message": "Tell me about the Everyday Checking account."}).json()
    assert body["path"] == "extractive" and body["citations"] and "Talk to an agent" in body["suggestions"]

@pytest.mark.postgres
def test_database_down_is_503_with_retry_after_and_recovers(tmp_path):
    name = f"fault_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    try:
        s = Settings(
            _env_file=None,
            storage={"data_dir": tmp_path, "database_url": f"postgresql://postgres@127.0.0.1:5432/{name}"},
            llm={"model": "smollm2-135m"}, answering={"max_new_tokens": 8}, voice={"enabled": False},
        )
        with TestClient(create_app(s, build_services(s))) as c:
            me = c.post("/v1/chat", json={"message": "What is your routing number?"}).json()
            cid = me["conversation_id"]
            with admin.connect() as a:  # the database goes away under the running API
                a.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
                a.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            down = c.post("/v1/chat", json={"message": "What is your routing number?", "conversation_id": cid}, headers=auth(me))
            assert down.status_code == 503 and down.headers["retry-after"] == "5"
            with admin.connect() as a:
                a.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
            back = c.post("/v1/chat", json={"message": "What is your routing number?", "conversation_id": cid}, headers=auth(me))
            assert back.status_code == 200
            assert len(c.get(f"/v1/conversations/{cid}", headers=auth(me)).json()["messages"]) == 4  # nothing acknowledged was lost
            services = c.app.state.services
            services.conversations._sessions.kw["bind"].dispose()
    finally:
        with admin.connect() as a:
            a.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
            a.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            a.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()

@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server binary not installed")
def test_redis_down_turns_still_complete_and_relay_recovers(tmp_path, settings):
    port = free_port()
    start = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    redis = subprocess.Popen(start, stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    s = settings.changed(redis__url=f"redis://127.0.0.1:{port}/0", redis__prefix=f"t{port}:")
    try:
        with TestClient(create_app(s, build_services(s))) as c, c.websocket_connect("/v1/chat/ws") as ws:
            ws.send_json({"message": "What is your routing number?"})
            me = ws.receive_json()
            while (frame := ws.receive_json())["type"] != "reply":
                pass
            cid = frame["conversation_id"]
            redis.kill()
            redis.wait()
            r = c.post(f"/v1/conversations/{cid}/handoff", headers=auth(me))  # publishes to the (dead) bus
            assert r.status_code == 200
            redis = subprocess.Popen(start, stdout=subprocess.DEVNULL)
            time.sleep(2.5)  # the listener reconnects with backoff
            services = c.app.state.services
            agent = services.agents.add(f"r{port}", "rae-river-lantern", display_name="Rae")

            ticket = services.tickets.open_for(cid)
            c.portal.call(services.handoff.claim, ticket.id, agent)
            deadline = time.monotonic() + 10
            while (frame := ws.receive_json())["type"] != "agent_joined" and time.monotonic() < deadline:
                pass
            assert frame["type"] == "agent_joined"
    finally:
        redis.kill()

def test_kill_9_loses_nothing_acknowledged(tmp_path):
    from websockets.sync.client import connect

    port = free_port()
    env = {**os.environ, "BANK_STORAGE__DATA_DIR": str(tmp_path), "BANK_LLM__MODEL": "smollm2-135m", "BANK_ANSWERING__MAX_NEW_TOKENS": "96",
           "BANK_VOICE__ENABLED": "false", "BANK_SERVER__LOG_LEVEL": "WARNING"}
    cmd = [str(BIN), "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, proc)
        acked, me = [], {}
        with connect(f"ws://127.0.0.1:{port}/v1/chat/ws") as ws:
            for q in ("What is your routing number?", "What are your branch hours?"):
                ws.send(json.dumps({"message": q, **({"conversation_id": acked[0][0]} if acked else {})}))
                while (frame := json.loads(ws.recv(timeout=120)))["type"] != "reply":
                    if frame["type"] == "session":
                        me = frame
                acked.append((frame["conversation_id"], frame["message_id"]))
            ws.send(json.dumps({"message": "How does overdraft protection work for my checking account?",
                                "conversation_id": acked[0][0]}))
            while json.loads(ws.recv(timeout=120))["type"] != "start":
                pass
            os.kill(proc.pid, signal.SIGKILL)  # mid-turn
            proc.wait()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(port, proc)
        cid = acked[0][0]
        stored = httpx.get(f"http://127.0.0.1:{port}/v1/conversations/{cid}", headers=auth(me)).json()["messages"]
        ids = {m["id"] for m in stored}
        assert all(mid in ids for _, mid in acked)
        assert stored[4]["role"] == "user" and "overdraft" in stored[4]["text"]  # the unanswered question is kept
        with connect(f"ws://127.0.0.1:{port}/v1/chat/ws") as ws:  # the client reconnects and resumes
            ws.send(json.dumps({"type": "resume", "conversation_id": cid, "session_token": me["session_token"]}))
            assert json.loads(ws.recv(timeout=30))["type"] == "resumed"
    finally:
        proc.kill()
        proc.wait()
