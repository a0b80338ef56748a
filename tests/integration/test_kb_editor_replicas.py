"""Publishing reaches every API replica with no downtime: two `bankassist serve` processes sharing
PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379), each with its own knowledge-base folder and
index. A draft published on A is answered by B's chat within seconds (B copies the file from the
database and rebuilds its own index), and B answers every request meanwhile; a rollback on B
reaches A the same way.
"""

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

pytestmark = pytest.mark.postgres
PG = "postgresql://postgres@127.0.0.1:5432/test"
ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "assistant.cli"]
PW = "replica-pass-1234"
PORTS = range(8200, 8220)  # this suite's own ports and Redis database: other suites may run beside it
REDIS = "redis://127.0.0.1:6379/6"


def free_ports(n: int) -> list[int]:
    found = []
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == n:
            return found
    raise RuntimeError(f"no {n} free ports in {PORTS}")


def wait_ready(port: int, proc: subprocess.Popen) -> None:
    for _ in range(1200):
        assert proc.poll() is None, "server exited during start-up"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("server did not become ready")


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    schema = f"kbloop_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    base = {**os.environ, "BANK_STORAGE__DATABASE_URL": f"{PG}?options=-csearch_path%3D{schema}", "BANK_REDIS__URL": REDIS,
            "BANK_REDIS__PREFIX": f"test-{schema}:", "BANK_LLM__MODEL": "smollm2-135m", "BANK_ANSWERING__MAX_NEW_TOKENS": "16",
            "BANK_VOICE__ENABLED": "false", "BANK_SERVER__LOG_LEVEL": "WARNING", "BANK_AUDIT__KEY": "kbloop-replica-audit-key-0123456789abcdef"}
    envs = []
    for name in ("a", "b"):
        data = tmp_path_factory.mktemp(f"replica-{name}")
        shutil.copytree(ROOT / "knowledge_base" / "docs", data / "kb-docs")
        envs.append({**base, "BANK_STORAGE__DATA_DIR": str(data), "BANK_RETRIEVAL__DOCS_DIR": str(data / "kb-docs")})
    for user, role in (("ed", "kb_editor"), ("ann", "kb_approver"), ("bob", "kb_approver")):
        subprocess.run([*CLI, "staff", "add", user, "--role", role, "--password-stdin"], input=PW + "\n", env=envs[0],
                       check=True, capture_output=True, text=True, cwd=ROOT)
    ports = free_ports(2)
    procs = [subprocess.Popen([*CLI, "serve", "--port", str(p)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, cwd=ROOT) for p, env in zip(ports, envs, strict=True)]
    try:
        for p, proc in zip(ports, procs, strict=True):
            wait_ready(p, proc)
        yield [f"http://127.0.0.1:{p}" for p in ports]
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


def login(host: str, user: str) -> dict:
    r = httpx.post(f"{host}/v1/agent/login", json={"username": user, "password": PW})
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['token']}"}


def reply_to(host: str, question: str) -> str:
    r = httpx.post(f"{host}/v1/chat", json={"message": question}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()["reply"]


def until(check, timeout: float) -> float:
    t0 = time.monotonic()
    while not check():
        assert time.monotonic() - t0 < timeout, "the other replica did not follow in time"
        time.sleep(0.2)
    return time.monotonic() - t0


class Watch(threading.Thread):
    """Asks a replica a search every 100 ms: a publish must never make it fail or stop answering."""

    def __init__(self, host: str) -> None:
        super().__init__(daemon=True)
        self.host, self.codes, self.stop = host, [], threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=10) as c:
            while not self.stop.is_set():
                try:
                    self.codes.append(c.get(f"{self.host}/v1/kb/search", params={"q": "wire transfer fee"}).status_code)
                except httpx.HTTPError as exc:
                    self.codes.append(type(exc).__name__)
                time.sleep(0.1)


def test_a_publish_on_one_replica_is_answered_by_the_other_within_seconds(replicas):
    a, b = replicas
    ed, ann, bob = login(a, "ed"), login(a, "ann"), login(b, "bob")
    question = "do you give out free umbrellas at the branch when it rains"
    answers = ["Yes: every branch lends umbrellas free of charge on rainy days.", "Umbrellas are no longer lent at branches."]
    doc_id = f"faq-umbrellas-{uuid.uuid4().hex[:6]}"
    watch = Watch(b)
    watch.start()
    timings, publish_s = [], []
    for n, answer in enumerate(answers):
        body = {"doc_id": doc_id, "faq": {"title": "Do you lend umbrellas?", "questions": [question], "answer": answer}}
        if n == 0:
            d = httpx.post(f"{a}/v1/kb-editor/drafts", json=body, headers=ed).json()
        else:
            d = httpx.post(f"{a}/v1/kb-editor/drafts", json={"doc_id": doc_id}, headers=ed).json()
            d = httpx.put(f"{a}/v1/kb-editor/drafts/{d['id']}", json={"revision": 1, "faq": body["faq"]}, headers=ed).json()
        d = httpx.post(f"{a}/v1/kb-editor/drafts/{d['id']}/submit", json={"revision": d["revision"]}, headers=ed).json()
        t0 = time.monotonic()
        r = httpx.post(f"{a}/v1/kb-editor/drafts/{d['id']}/publish", json={"revision": d["revision"]}, headers=ann, timeout=180)
        publish_s.append(time.monotonic() - t0)
        assert r.status_code == 200, r.text
        assert reply_to(a, question) == answer
        timings.append(until(lambda ans=answer: reply_to(b, question) == ans, timeout=60))

    # one click back on B: A follows
    versions = httpx.get(f"{b}/v1/kb-editor/documents/{doc_id}", headers=bob).json()["versions"]
    assert [v["version"] for v in versions] == [2, 1]
    r = httpx.post(f"{b}/v1/kb-editor/documents/{doc_id}/rollback", json={"version": 1, "current_version": 2},
                   headers=bob, timeout=180)
    assert r.status_code == 200, r.text
    timings.append(until(lambda: reply_to(a, question) == answers[0], timeout=60))
    watch.stop.set()
    watch.join(15)
    print(f"\npublish (rebuild on A included) took {', '.join(f'{t:.1f}' for t in publish_s)} s; the other replica "
          f"answered with the new text {', '.join(f'{t:.1f}' for t in timings)} s later; {len(watch.codes)} searches on B, all 200")
    assert watch.codes and set(watch.codes) == {200}, watch.codes
    assert max(timings) < 30
