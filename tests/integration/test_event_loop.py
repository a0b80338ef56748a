"""Work that waits (a database lock held by another process, a slow parse) never stalls the
event loop: other requests keep being answered meanwhile."""

import sqlite3
import threading
import time

from tests.conftest import auth

LOCK_S = 3.0


def timed(call) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def test_requests_waiting_on_a_database_lock_do_not_stall_other_requests(client, settings):
    me = client.post("/v1/chat", json={"message": "What is your routing number?"}).json()
    cid, mid = me["conversation_id"], me["message_id"]
    assert client.get("/healthz").status_code == 200

    other = sqlite3.connect(settings.storage.data_dir / "bankassist.db", timeout=1)  # e.g. the CLI, writing
    other.execute("BEGIN IMMEDIATE")  # holds the database's write lock
    results: dict[str, int] = {}
    waiting = [
        threading.Thread(target=lambda: results.__setitem__("feedback", client.post(
            f"/v1/conversations/{cid}/messages/{mid}/feedback", json={"rating": "up"}, headers=auth(me)).status_code)),
        threading.Thread(target=lambda: results.__setitem__("chat", client.post(
            "/v1/chat", json={"message": "hello"}).status_code)),
        threading.Thread(target=lambda: results.__setitem__("handoff", client.post(
            f"/v1/conversations/{cid}/handoff", headers=auth(me)).status_code)),
    ]
    try:
        for t in waiting:
            t.start()
        time.sleep(0.5)  # they are now waiting on the lock
        slowest = max(timed(lambda: client.get("/healthz")) for _ in range(3))
        assert not results, "the writes cannot have finished while the lock is held"
    finally:
        time.sleep(max(0.0, LOCK_S - 0.5 - 3 * 0.05))
        other.rollback()
        other.close()
        for t in waiting:
            t.join(30)
    assert slowest < 0.5, f"/healthz took {slowest:.2f} s while other requests waited on the database"
    assert results == {"feedback": 204, "chat": 200, "handoff": 200}
