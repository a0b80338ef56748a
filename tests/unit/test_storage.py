import uuid

import pytest
from sqlalchemy import text

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


def test_sqlite_wal_and_repository(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db' / 'x.db'}")
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
    exercise(ConversationRepository(session_factory(engine)))


@pytest.mark.postgres
def test_postgresql_same_code():
    """The same migrations and repository on the PostgreSQL server at 127.0.0.1:5432."""
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        engine = make_engine(PG_URL + f"?options=-csearch_path%3D{schema}")
        migrate(engine)
        with engine.connect() as c:
            assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
        exercise(ConversationRepository(session_factory(engine)))
        engine.dispose()
    finally:
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


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
