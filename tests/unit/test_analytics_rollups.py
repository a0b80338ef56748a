"""The daily rollups give every dashboard figure exactly what the raw rows give: on synthetic history
(bench/analytics_history.py) before any rebuild (all raw), after rebuilding every day (all rollups), after writes
to rebuilt days (those days raw, the rest rollups), and after rebuilding again; on SQLite and PostgreSQL."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import delete, func, select, text, update

from assistant.analytics import Analytics, Filters
from assistant.analytics import rollups as R
from assistant.analytics.rollups import plan
from assistant.storage.db import MIGRATIONS, make_engine, migrate, session_factory
from assistant.storage.models import Conversation, Message, Ticket, table_of, utcnow
from bench.analytics_history import end_of_today
from bench.analytics_queries import seed
from tests.unit.test_storage import pg_engine

DAYS = 40
M, C, T = table_of(Message), table_of(Conversation), table_of(Ticket)


@contextmanager
def sqlite_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def history(request, tmp_path_factory):
    with (sqlite_engine(tmp_path_factory.mktemp("rollups")) if request.param == "sqlite" else pg_engine()) as engine:
        seed(engine, 1500, DAYS)
        yield engine


def filters() -> list[Filters]:
    today = end_of_today().date() - timedelta(days=1)
    recent = Filters.recent(30, today=today)
    return [recent, Filters.recent(DAYS + 2, today=today + timedelta(days=1)),
            Filters.recent(14, today=today, channel="web"), Filters.recent(30, today=today, intent="intent_03"),
            Filters.recent(DAYS, today=today, granularity="week"), Filters.recent(10, today=today, channel="voice"),
            Filters(recent.start + timedelta(hours=12), recent.end)]  # not whole days: raw


def figures(a: Analytics) -> dict:
    return {(fid, i): a.figure(fid, f).to_json() for fid in a.figure_ids for i, f in enumerate(filters())}


def force_raw(engine) -> None:
    with engine.begin() as c:
        c.execute(delete(R.DAYS))


def write_to_old_days(engine) -> None:
    """A late thumbs-down, a conversation handed off days later, a ticket closed late, a new question and reply on
    a rebuilt day."""
    day = end_of_today() - timedelta(days=12)
    with engine.begin() as c:
        rated = c.execute(select(M.c.id).where(M.c.role == "assistant", M.c.feedback.is_(None),
                                               M.c.citations.is_not(None), M.c.created_at < day).limit(3)).scalars()
        c.execute(update(M).where(M.c.id.in_(list(rated))).values(feedback=-1))
        cid = c.execute(select(C.c.id).where(C.c.handed_off_at.is_(None), C.c.first_user_at.is_not(None),
                                             C.c.created_at < day).limit(1)).scalar_one()
        c.execute(update(C).where(C.c.id == cid).values(handed_off_at=utcnow()))
        ticket = c.execute(select(T.c.id).where(T.c.claimed_at.is_not(None), T.c.created_at < day).limit(1)).scalar_one()
        c.execute(update(T).where(T.c.id == ticket).values(status="closed", closed_at=utcnow()))
        for role, path in (("user", None), ("assistant", "no_answer")):
            c.execute(M.insert().values(conversation_id=cid, role=role, text="x", channel="web", created_at=day,
                                        path=path, intent="intent_03", intent_confidence=0.2))


def test_rollups_equal_the_raw_rows(history):
    engine = history
    a = Analytics(session_factory(engine))
    raw = figures(a)  # nothing rebuilt yet: every day raw
    assert a.refresh_rollups() > DAYS - 2
    assert a.refresh_rollups() == 0  # nothing was written since
    with engine.connect() as c:
        p = plan(c, filters()[0])
        assert p is not None and p.raw is None  # the 30 days from the rollups alone
    assert figures(a) == raw

    write_to_old_days(engine)
    with engine.connect() as c:
        p = plan(c, filters()[0])
        assert p is not None and p.raw is not None and p.rolled  # a dirty day among rebuilt ones
    mixed = figures(a)
    force_raw(engine)
    after = figures(a)
    assert mixed == after and after != raw
    with engine.begin() as c:  # every day rebuilt again
        c.execute(text("INSERT INTO rollup_dirty_days (day) SELECT DISTINCT day FROM rollup_replies "
                       "WHERE day NOT IN (SELECT day FROM rollup_dirty_days)"))
    a.refresh_rollups()
    assert figures(a) == after


def test_triggers_mark_the_days_written(history):
    engine = history
    a = Analytics(session_factory(engine))
    a.refresh_rollups()
    with engine.begin() as c:
        old = c.execute(select(M.c.id, M.c.created_at).where(M.c.role == "assistant").order_by(M.c.id).limit(1)).one()
        c.execute(update(M).where(M.c.id == old.id).values(latency_ms=1.0))  # a column no figure reads
        assert c.execute(select(func.count()).select_from(R.DIRTY)).scalar() == 0
        c.execute(update(M).where(M.c.id == old.id).values(feedback=1))
        dirty = c.execute(select(R.DIRTY.c.day)).scalars().all()
    at = old.created_at.astimezone(UTC) if old.created_at.tzinfo else old.created_at
    assert dirty == [at.strftime("%Y-%m-%d")]


def test_quantile_is_numpys_linear_percentile():
    import numpy as np

    from assistant.analytics.agents import quantile

    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 10, 11, 97, 1000):
        values = [float(v) for v in rng.lognormal(4, 1, n)]
        for q in (0.5, 0.9):
            assert quantile(values, q) == round(float(np.percentile(values, q * 100)), 1)
    assert quantile([], 0.5) is None


def test_the_migration_marks_stored_history_and_goes_down_and_up_again(tmp_path):
    from tests.unit.test_analytics_migration import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine, "0013")
    with engine.begin() as c:
        for cid, day in (("a", "2026-01-05"), ("b", "2026-01-07")):
            c.execute(text("INSERT INTO conversations (id, channel, status, created_at, updated_at) "
                           f"VALUES (:id, 'web', 'bot', '{day} 10:00:00.000000', '{day} 10:00:00.000000')"), {"id": cid})
        c.execute(text("INSERT INTO messages (conversation_id, role, text, channel, created_at) "
                       "VALUES ('a', 'user', 'x', 'web', '2026-01-06 23:59:59.000000')"))
    upgrade(engine, "head")
    with engine.connect() as c:
        assert c.execute(text("SELECT day FROM rollup_dirty_days ORDER BY day")).scalars().all() == \
            ["2026-01-05", "2026-01-06", "2026-01-07"]
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0013")
    with engine.connect() as c:
        assert not c.execute(text("SELECT name FROM sqlite_master WHERE name LIKE 'rollup%'")).all()
    upgrade(engine, "head")
    engine.dispose()
