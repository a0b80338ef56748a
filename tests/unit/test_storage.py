import asyncio
import uuid
from contextlib import contextmanager
from dataclasses import replace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from assistant.dialogue.state import DialogueContext, DialogueStore, FlowState, StateConflict
from assistant.storage.db import head_revision, make_engine, migrate, session_factory
from assistant.storage.repository import ConversationRepository

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def exercise(repo: ConversationRepository) -> None:
    cid = repo.create("web")
    assert repo.exists(cid) and not repo.exists(str(uuid.uuid4()))
    repo.add(cid, role="user", text="hello [CARD]", channel="web", pii={"CARD": 1})
    mid = repo.add(cid, role="assistant", text="hi", channel="web", path="faq", intent="greeting",
                   intent_confidence=0.9, citations=[{"doc_id": "faq-x", "title": "X", "section": ""}], latency_ms=12.5)
    view = repo.get(cid)
    assert [m.role for m in view.messages] == ["user", "assistant"]
    assert view.messages[1].id == mid and view.messages[1].citations[0]["doc_id"] == "faq-x"
    assert view.messages[1].latency_ms == 12.5 and view.messages[1].created_at is not None
    assert [m.text for m in repo.recent(cid, 1)] == ["hi"]
    assert repo.get("nope") is None
    exercise_dialogue_state(repo, cid)


def exercise_dialogue_state(repo: ConversationRepository, cid: str) -> None:
    """The dialogue state, written through the turns' write queue: versions guard concurrent turns."""
    store = DialogueStore(repo._sessions, repo.writes)
    assert store.load(cid) == DialogueContext(cid)
    saved = store.save(DialogueContext(cid, customer_id="cus_alex", verified_by="assertion",
                                       flow=FlowState("transfer", "amount", slots={"amount": {"amount": "5.00"}})))
    assert saved.version == 1
    loaded = store.load(cid)
    assert loaded.customer_id == "cus_alex" and loaded.flow.slots == {"amount": {"amount": "5.00"}}
    assert loaded.version == 1
    with pytest.raises(StateConflict):  # a second first save (another turn got there first)
        store.save(DialogueContext(cid))
    store.save(replace(loaded, flow=None))
    with pytest.raises(StateConflict):  # a save from the stale version 1
        asyncio.run(store.asave(loaded))
    assert store.load(cid).version == 2 and store.load(cid).flow is None


def test_sqlite_wal_and_repository(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db' / 'x.db'}")
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL: an acknowledged commit survives a power cut
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
    exercise(ConversationRepository(session_factory(engine)))


@contextmanager
def pg_engine():
    """A migrated engine on a fresh schema of the PostgreSQL server at 127.0.0.1:5432, dropped after."""
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        engine = make_engine(PG_URL + f"?options=-csearch_path%3D{schema}")
        migrate(engine)
        yield engine
        engine.dispose()
    finally:
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.mark.postgres
def test_postgresql_same_code():
    """The same migrations and repository on the PostgreSQL server at 127.0.0.1:5432."""
    with pg_engine() as engine:
        with engine.connect() as c:
            assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
        exercise(ConversationRepository(session_factory(engine)))


def test_sqlite_writers_of_one_process_queue_instead_of_failing(tmp_path):
    """Many threads writing at once: every message is stored. SQLite's busy wait is switched off
    here, so two writers inside SQLite at once would fail with 'database is locked'."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import event

    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA busy_timeout = 0"))
    migrate(engine)
    repo = ConversationRepository(session_factory(engine))
    cids = [repo.create("web") for _ in range(8)]

    def write(i: int) -> int:
        return repo.add(cids[i % 8], role="user", text=f"message {i}", channel="web")

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(write, range(400)))
    assert len(set(ids)) == 400
    assert sum(len(repo.get(c).messages) for c in cids) == 400
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM conversations WHERE status = 'bot'")).scalar() == 8


def _sqlite_repo(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    return engine, sessions, ConversationRepository(sessions)


def test_concurrent_writes_are_group_committed_and_each_caller_gets_its_own_row(tmp_path):
    """200 turns writing at once: the event loop commits them in a few transactions, and every
    caller's id is its own message's."""
    import asyncio

    from sqlalchemy import event

    engine, sessions, repo = _sqlite_repo(tmp_path)
    cids = [repo.create("web") for _ in range(4)]
    commits = []
    event.listen(engine, "commit", lambda conn: commits.append(1))

    async def turns():
        return await asyncio.gather(*[
            repo.add_async(cids[i % 4], role="user", text=f"message {i}", channel="web") for i in range(200)])

    ids = asyncio.run(turns())
    assert len(set(ids)) == 200
    assert len(commits) < 100  # batched: far fewer commits than writes
    stored = {m.id: m.text for c in cids for m in repo.get(c).messages}
    assert all(stored[mid] == f"message {i}" for i, mid in enumerate(ids))
    repo.close()


def test_a_loop_batch_that_meets_a_thread_holding_the_writers_lock_goes_to_the_writer_thread(tmp_path):
    """The loop never waits on this process's writers' lock: its batch goes to the writer thread."""
    import asyncio
    import threading

    _, sessions, repo = _sqlite_repo(tmp_path)
    cid = repo.create("web")
    held, release = threading.Event(), threading.Event()

    def hold():
        with sessions.begin():
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(5)

    async def turn():
        write = asyncio.ensure_future(repo.add_async(cid, role="user", text="while locked", channel="web"))
        await asyncio.sleep(0.1)  # the loop runs on while the thread holds the lock
        assert not write.done()
        release.set()
        return await write

    mid = asyncio.run(turn())
    holder.join()
    assert [(m.id, m.text) for m in repo.get(cid).messages] == [(mid, "while locked")]
    repo.close()


def test_a_failing_write_fails_alone_and_the_rest_of_its_batch_is_stored(tmp_path):
    import asyncio

    _, _, repo = _sqlite_repo(tmp_path)
    cid = repo.create("web")

    async def turns():
        return await asyncio.gather(*[
            repo.add_async(cid if i != 5 else "no-such-conversation", role="user", text=f"m{i}", channel="web")
            for i in range(20)], return_exceptions=True)

    results = asyncio.run(turns())
    assert isinstance(results[5], IntegrityError)  # a foreign key the database refused
    assert all(isinstance(r, int) for i, r in enumerate(results) if i != 5)
    assert [m.text for m in repo.get(cid).messages] == [f"m{i}" for i in range(20) if i != 5]
    repo.close()


def test_a_reply_and_its_audit_record_are_stored_together(tmp_path):
    from assistant.audit import AuditLog
    from assistant.storage.repository import AuditEntry

    _, sessions, repo = _sqlite_repo(tmp_path)
    audit = AuditLog(sessions, key=b"s" * 32)
    cid = repo.create("web")
    repo.add(cid, role="assistant", text="hi", channel="web", audit=AuditEntry(audit, "turn", {"reply": "hi"}))
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):  # an unknown conversation: neither row is written
        repo.add("no-such-conversation", role="assistant", text="x", channel="web",
                 audit=AuditEntry(audit, "turn", {"reply": "x"}))
    check = audit.verify()
    assert check.ok and check.checked == 2  # the chain_keyed record, then the reply's
    repo.close()


@pytest.mark.postgres
def test_postgresql_writes_run_concurrently_in_their_own_transactions():
    import asyncio

    with pg_engine() as engine:
        repo = ConversationRepository(session_factory(engine))
        cid = repo.create("web")

        async def turns():
            return await asyncio.gather(*[repo.add_async(cid, role="user", text=f"m{i}", channel="web") for i in range(40)])

        assert len(set(asyncio.run(turns()))) == 40
        assert len(repo.get(cid).messages) == 40
        repo.close()
