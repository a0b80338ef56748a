"""Engine creation and migrations (Alembic, run programmatically at start)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger(__name__)
T = TypeVar("T")


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


class WriteQueue:
    """The hot writes of every turn (conversations, messages, audit records) as jobs: `job(session)`.

    SQLite (one writer at a time): one thread runs every job queued while it was busy in ONE
    transaction and commits once, then completes the callers' futures; so 200 sessions' writes
    cost a few commits a second instead of one lock hand-over each, and a waiting turn holds no
    worker thread (`await asyncio.wrap_future(writes.submit(job))`). If one job of a batch fails,
    the batch is rolled back and each job re-run in its own transaction, so one bad write
    (an unknown conversation id) fails alone. A future completes only after its commit: what a
    caller was told is stored, is stored. PostgreSQL takes concurrent writers: each job runs in
    its own transaction on a small thread pool.
    """

    def __init__(self, sessions: sessionmaker, *, max_batch: int = 128) -> None:
        self._sessions, self._max_batch = sessions, max_batch
        self._grouped = isinstance(sessions, _OneWriterAtATime)
        self._jobs: queue.SimpleQueue[tuple[Callable[[Session], object], Future] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._start = threading.Lock()

    def submit(self, job: Callable[[Session], T]) -> Future:
        if not self._grouped:
            if self._pool is None:
                with self._start:
                    self._pool = self._pool or ThreadPoolExecutor(8, thread_name_prefix="db-write")
            return self._pool.submit(self._alone, job)
        future: Future = Future()
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._serve, name="db-writer", daemon=True)
                    self._thread.start()
        self._jobs.put((job, future))
        return future

    def run(self, job: Callable[[Session], T]) -> T:
        """For a synchronous caller: the job's result once committed."""
        return self.submit(job).result()

    def close(self) -> None:
        with self._start:
            if self._thread is not None:
                self._jobs.put(None)
                self._thread.join(10)
                self._thread = None
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def _alone(self, job: Callable[[Session], T]) -> T:
        with self._sessions.begin() as session:
            return job(session)

    def _serve(self) -> None:
        stop = False
        while not stop:
            first = self._jobs.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            live = [(job, f) for job, f in batch if f.set_running_or_notify_cancel()]
            try:
                with self._sessions.begin() as session:
                    results = [job(session) for job, _ in live]
            except Exception:  # one bad job (or the commit): each job again, alone
                if len(live) > 1:
                    log.info("a batch of %d writes failed; retrying each alone", len(live))
                for job, f in live:
                    try:
                        f.set_result(self._alone(job))
                    except Exception as exc:
                        f.set_exception(exc)
                continue
            for (_, f), result in zip(live, results):
                f.set_result(result)


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()
