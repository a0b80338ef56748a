"""Engine creation and migrations (Alembic, run programmatically at start)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # WAL: readers never block the writer
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Several API processes may start at once: one migrates, the others wait, then no-op.
            conn.execute(text("SELECT pg_advisory_xact_lock(734200117)"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class _OneWriterAtATime(sessionmaker):
    """SQLite takes one writer at a time. Writers of this process queue on a lock here instead
    of in SQLite's busy handler, which sleeps in growing steps (up to 100 ms) between retries:
    with 200 sessions arriving at once, turns spent most of their time in those sleeps
    (bench/load_faq.py, py-spy: half the worker threads' samples inside the driver's execute).
    Reads (`sessions()`) are not serialized: WAL lets them run beside the writer."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._write_lock = threading.RLock()

    @contextmanager
    def begin(self) -> Iterator[Session]:
        with self._write_lock, super().begin() as session:
            yield session


def session_factory(engine: Engine) -> sessionmaker:
    """Sessions: `sessions()` to read, `sessions.begin()` for a write transaction."""
    if engine.dialect.name == "sqlite":
        return _OneWriterAtATime(bind=engine, expire_on_commit=False)
    return sessionmaker(bind=engine, expire_on_commit=False)


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()
