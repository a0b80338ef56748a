"""Engine creation and migrations (Alembic, run programmatically at start)."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
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
            # FULL: a commit reaches the disk before a turn is acknowledged (NORMAL can lose the
            # last commits on power loss); the writer thread's group commit keeps it to one sync per batch
            cur.execute("PRAGMA synchronous=FULL")
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
    of in SQLite's busy handler, which sleeps in growing steps (up to 100 ms) between retries
    (docs/decisions/0009-faq-path-under-load.md). Reads (`sessions()`) are not serialized: WAL lets
    them run beside the writer."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._write_lock = threading.RLock()

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        with self._write_lock:
            yield

    @contextmanager
    def begin(self) -> Iterator[Session]:
        with self.write_lock(), super().begin() as session:
            yield session


def session_factory(engine: Engine) -> sessionmaker:
    """Sessions: `sessions()` to read, `sessions.begin()` for a write transaction."""
    if engine.dialect.name == "sqlite":
        return _OneWriterAtATime(bind=engine, expire_on_commit=False)
    return sessionmaker(bind=engine, expire_on_commit=False)


async def read_async(sessions: sessionmaker, read: Callable[..., T], *args) -> T:
    """A read for the event loop, in a worker thread: the loop never waits on the database (a
    SQLite reader can still wait on a lock, e.g. while another process recovers the WAL)."""
    return await asyncio.to_thread(read, *args)


class WriteQueue:
    """The hot writes of every turn (conversations, messages, audit records) as jobs: `job(connection)`,
    Core statements on a Core connection.

    SQLite (one writer at a time): one thread runs every job queued while it was busy in ONE
    transaction and commits once, then completes the callers' futures; so 200 sessions' writes
    cost a few commits a second instead of one lock hand-over each, and a waiting turn holds no
    worker thread (`await asyncio.wrap_future(writes.submit(job))`). If one job of a batch fails,
    the batch is rolled back and each job re-run in its own transaction, so one bad write
    (an unknown conversation id) fails alone. A future completes only after its commit: what a
    caller was told is stored, is stored. PostgreSQL takes concurrent writers: each job runs in
    its own transaction on a small thread pool.

    `run_async` (the event loop's turns) hands the job over the same way: the loop never runs a
    statement, so a lock held by another process (the CLI, a second server on the same file;
    up to SQLite's busy timeout) or a commit's sync to disk stalls one turn, never every socket.
    """

    def __init__(self, sessions: sessionmaker, *, max_batch: int = 128) -> None:
        self._sessions, self._max_batch = sessions, max_batch
        self._engine: Engine = sessions.kw["bind"]
        self._grouped = isinstance(sessions, _OneWriterAtATime)
        self._jobs: queue.SimpleQueue[tuple[Callable[[Connection], object], Future] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._start = threading.Lock()

    async def run_async(self, job: Callable[[Connection], T]) -> T:
        """`run` for the event loop: the job's result once committed, holding no worker thread."""
        return await asyncio.wrap_future(self.submit(job))

    def submit(self, job: Callable[[Connection], T]) -> Future:
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

    def run(self, job: Callable[[Connection], T]) -> T:
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

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A Core connection in a transaction (the jobs' statements are Core: no ORM session to
        build and commit, which was a third of a turn's write time), under this process's
        writers' lock on SQLite."""
        sessions = self._sessions
        lock = sessions.write_lock() if isinstance(sessions, _OneWriterAtATime) else nullcontext()
        with lock, self._engine.begin() as conn:
            yield conn

    def _alone(self, job: Callable[[Connection], T]) -> T:
        with self._transaction() as conn:
            return job(conn)

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
            for (_, f), (value, error) in zip(live, self._run_batch([job for job, _ in live]), strict=False):
                if error is None:
                    f.set_result(value)
                else:
                    f.set_exception(error)

    def _run_batch(self, jobs: list[Callable[[Connection], object]]) -> list[tuple[object, Exception | None]]:
        """Every job in one transaction; if that fails (one bad job, or the commit), each job again
        alone. (result, None) or (None, exception) per job."""
        try:
            with self._transaction() as conn:
                return [(job(conn), None) for job in jobs]
        except Exception:
            if len(jobs) > 1:
                log.info("a batch of %d writes failed; retrying each alone", len(jobs))
        outcomes: list[tuple[object, Exception | None]] = []
        for job in jobs:
            try:
                outcomes.append((self._alone(job), None))
            except Exception as exc:
                outcomes.append((None, exc))
        return outcomes


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration in {MIGRATIONS}")
    return head
