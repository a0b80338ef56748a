"""Two API processes sharing PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379).

A customer on process A and an agent on process B talk live; a ticket is claimed exactly
once across processes; a conversation resumes on either process.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from assistant.storage.db import make_engine
from tests.conftest import auth

pytestmark = pytest.mark.postgres
PG = "postgresql://postgres@127.0.0.1:5432/test"
ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "assistant.cli"]  # this checkout's code (cwd first on sys.path)
ADMIN = {"authorization": "Bearer scaleout-admin-token-0123456789"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    schema = f"scale_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    data = tmp_path_factory.mktemp("scale")
    docs = data / "kb-docs"  # admin uploads land here, not in the checkout
    shutil.copytree(ROOT / "knowledge_base" / "docs", docs)
    env = {**os.environ, "BANK_RETRIEVAL__DOCS_DIR": str(docs), "BANK_SECURITY__ADMIN_TOKEN": ADMIN["authorization"][7:], "BANK_STORAGE__DATABASE_URL": f"{PG}?options=-csearch_path%3D{schema}",
           "BANK_REDIS__URL": "redis://127.0.0.1:6379/0", "BANK_REDIS__PREFIX": f"test-{schema}:",
           "BANK_STORAGE__DATA_DIR": str(data), "BANK_LLM__MODEL": "smollm2-135m", "BANK_ANSWERING__MAX_NEW_TOKENS": "16",
           "BANK_VOICE__ENABLED": "false", "BANK_SERVER__LOG_LEVEL": "WARNING", "BANK_RATE_LIMIT__SESSION": "3/minute"}
    subprocess.run([*CLI, "kb", "build"], env=env, check=True, capture_output=True, cwd=ROOT)
    for name in ("ana", "ben"):
        subprocess.run([*CLI, "agents", "add", name, "--password-stdin", "--name", name.title()],
                       input="scaleout-pass-1\n", env=env, check=True, capture_output=True, text=True, cwd=ROOT)
    ports = [free_port(), free_port()]
    procs = [subprocess.Popen([*CLI, "serve", "--port", str(p)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, cwd=ROOT) for p in ports]
    try:
        for p in ports:
            for _ in range(600):
                try:
                    if httpx.get(f"http://127.0.0.1:{p}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.3)
            else:
                raise RuntimeError("server did not become ready")
        yield [f"127.0.0.1:{p}" for p in ports]
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def login(host, user):
    token = httpx.post(f"http://{host}/v1/agent/login", json={"username": user, "password": "scaleout-pass-1"}).json()["token"]
    return {"authorization": f"Bearer {token}"}


def next_frame(ws, kind, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if frame["type"] == kind:
            return frame


def test_customer_on_a_agent_on_b(cluster):
    from websockets.sync.client import connect

    a, b = cluster
    with connect(f"ws://{a}/v1/chat/ws") as customer:
        customer.send(json.dumps({"message": "What is your routing number?"}))
        me = next_frame(customer, "session")
        cid = next_frame(customer, "reply")["conversation_id"]
        assert httpx.post(f"http://{a}/v1/conversations/{cid}/handoff", headers=auth(me)).json()["status"] == "waiting"
        ana = login(b, "ana")
        ticket = next(t for t in httpx.get(f"http://{b}/v1/agent/tickets", headers=ana).json() if t["conversation_id"] == cid)
        assert httpx.post(f"http://{b}/v1/agent/tickets/{ticket['id']}/claim", headers=ana).status_code == 200
        assert next_frame(customer, "agent_joined")["agent"] == "Ana"
        httpx.post(f"http://{b}/v1/agent/tickets/{ticket['id']}/messages", headers=ana, json={"text": "Hello from B"})
        assert next_frame(customer, "agent_message")["text"] == "Hello from B"

    with connect(f"ws://{b}/v1/chat/ws") as again:  # the customer comes back on the other process
        again.send(json.dumps({"type": "resume", "conversation_id": cid, "session_token": me["session_token"]}))
        assert next_frame(again, "resumed")["status"] == "agent"
        with connect(f"ws://{a}/v1/agent/ws") as agent_ws:
            agent_ws.send(json.dumps({"type": "auth", "token": ana["authorization"][7:]}))
            next_frame(agent_ws, "hello")
            again.send(json.dumps({"message": "Thanks, one more thing", "conversation_id": cid}))
            assert next_frame(again, "reply")["path"] == "human"
            assert next_frame(agent_ws, "customer_message")["conversation_id"] == cid


def test_ticket_claimed_exactly_once_across_processes(cluster):
    a, b = cluster
    me = httpx.post(f"http://{a}/v1/chat", json={"message": "What is the wire cut-off time?"}).json()
    tid = httpx.post(f"http://{a}/v1/conversations/{me['conversation_id']}/handoff", headers=auth(me)).json()["ticket_id"]
    heads = {a: login(a, "ana"), b: login(b, "ben")}
    results = {}

    def claim(host):
        results[host] = httpx.post(f"http://{host}/v1/agent/tickets/{tid}/claim", headers=heads[host]).status_code

    threads = [threading.Thread(target=claim, args=(h,)) for h in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409]


GOLD = """---
id: prod-onyx-card
title: Larkspur Onyx Card
category: cards
---
## Annual fee
The Larkspur Onyx Card annual fee is $475 and includes airport lounge access.
"""


def top_doc(host, q):
    hits = httpx.get(f"http://{host}/v1/kb/search", params={"q": q, "k": 1}).json()["results"]
    return hits[0]["doc_id"] if hits else None


def eventually(check, timeout=60):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the other replica did not follow"
        time.sleep(0.5)


def test_kb_changes_reach_the_other_replica(cluster):
    """A document added on A is searchable on B; deleted on B, it is gone on A."""
    a, b = cluster
    q = "Onyx card annual fee lounge"
    r = httpx.put(f"http://{a}/v1/admin/kb/documents/prod-onyx-card", content=GOLD, timeout=120,
                  headers={**ADMIN, "content-type": "text/markdown"})
    assert r.status_code == 200, r.text
    assert top_doc(a, q) == "prod-onyx-card"
    eventually(lambda: top_doc(b, q) == "prod-onyx-card")
    assert httpx.delete(f"http://{b}/v1/admin/kb/documents/prod-onyx-card", headers=ADMIN, timeout=120).status_code == 200
    eventually(lambda: top_doc(a, q) != "prod-onyx-card")


def test_turn_limit_per_conversation_holds_across_processes(cluster):
    """BANK_RATE_LIMIT__SESSION=3/minute counted in Redis: turns alternating between A and B share one count."""
    a, b = cluster
    me = httpx.post(f"http://{a}/v1/chat", json={"message": "What is your routing number?"}).json()
    turn = {"message": "What is your routing number?", "conversation_id": me["conversation_id"]}
    codes = [httpx.post(f"http://{host}/v1/chat", json=turn, headers=auth(me)).status_code for host in (b, a, b)]
    assert codes == [200, 200, 429]
