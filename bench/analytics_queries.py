"""How fast the analytics dashboard's queries are over a large stored history (issue 27: p95 <= 500 ms over
1M messages and 100k conversations), on SQLite and on PostgreSQL.

Seeds synthetic history (bench/analytics_history.py: realistic mixes of channels, intents, routes, flows,
hand-offs, feedback and surveys over `--days`) into a freshly migrated database, in bulk, then times every
figure of the dashboard (assistant.analytics.Analytics.figure, the work behind GET /v1/analytics/figures/ID)
and a few drills, `--repeat` times under each filter: the default last 30 days, the whole period, the last
90 days on the web channel, the last 30 days for one intent, and the whole period per week. Prints p50 /
p95 per figure of wall time and of the database's CPU time (on a loaded shared machine the first waits for
a core; see CpuClock). PostgreSQL runs without parallel workers, so one core does each query.
Before timing, the daily rollups of every day written since their last rebuild are rebuilt (what the API does
in the background; assistant/analytics/rollups.py) and the time that took is printed; `--raw` times the raw
computation instead (the rollups unused). `--reuse` migrates a stored history to the newest schema first.

  .venv/bin/python bench/analytics_queries.py --db sqlite postgresql
  .venv/bin/python bench/analytics_queries.py --db postgresql --pg-url postgresql://postgres@127.0.0.1:5432/analytics
  .venv/bin/python bench/analytics_queries.py --db sqlite --sqlite-path /data/analytics.db --reuse --repeat 5
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.analytics import Analytics, Filters, rollups  # noqa: E402
from assistant.storage.db import make_engine, migrate, session_factory  # noqa: E402
from bench.analytics_history import (  # noqa: E402
    CONVERSATION_COLUMNS,
    CSAT_COLUMNS,
    MESSAGE_COLUMNS,
    TICKET_COLUMNS,
    Batch,
    History,
    end_of_today,
)

TABLES = (("conversations", CONVERSATION_COLUMNS, "conversations"), ("messages", MESSAGE_COLUMNS, "messages"),
          ("tickets", TICKET_COLUMNS, "tickets"), ("csat_responses", CSAT_COLUMNS, "csat"))
DRILLS = (("overview", "contained", "value"), ("routes", "no_answer", "replies"), ("flows", "transfer", "abandoned"),
          ("thumbs_down_docs", "doc-00", "thumbs_down"), ("handoff_reasons", "customer frustration", "tickets"))


def _sqlite_text(v):
    return v.strftime("%Y-%m-%d %H:%M:%S.%f") if hasattr(v, "strftime") else v


def load_sqlite(engine, batch: Batch) -> None:
    raw = engine.raw_connection()
    try:
        raw.execute("PRAGMA synchronous=OFF")
        for table, columns, attr in TABLES:
            rows = [tuple(_sqlite_text(v) for v in r) for r in getattr(batch, attr)]
            raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
        raw.commit()
    finally:
        raw.close()


def _copy_value(v) -> str:
    if v is None:
        return "\\N"
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def load_postgresql(engine, batch: Batch) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, columns, attr in TABLES:
            buf = io.StringIO("".join("\t".join(_copy_value(v) for v in r) + "\n" for r in getattr(batch, attr)))
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write(buf.getvalue())
        raw.commit()
    finally:
        raw.close()


def seed(engine, conversations: int, days: int) -> dict:
    t0 = time.perf_counter()
    with engine.begin() as c:
        agents = []
        for i in range(25):
            agents.append(c.execute(text("INSERT INTO agents (username, display_name, password_hash, role, disabled, "
                                         "created_at) VALUES (:u, :d, 'x', 'agent', false, :t) RETURNING id"),
                                    {"u": f"agent{i:02d}", "d": f"Agent {i:02d}", "t": end_of_today()}).scalar_one())
    load = load_sqlite if engine.dialect.name == "sqlite" else load_postgresql
    counts = dict.fromkeys(("conversations", "messages", "tickets", "csat"), 0)
    for batch in History(conversations=conversations, days=days, end=end_of_today(), agents=agents).batches():
        load(engine, batch)
        for k in counts:
            counts[k] += len(getattr(batch, k))
    with engine.connect() as c:
        c.execute(text("ANALYZE")) if engine.dialect.name == "sqlite" else None
        c.commit()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))  # what autovacuum does in production; index-only scans need it
    counts["seconds"] = round(time.perf_counter() - t0, 1)
    return counts


def filters(days: int) -> dict[str, Filters]:
    today = end_of_today().date() - timedelta(days=1)
    return {"30 days": Filters.recent(30, today=today), f"all {days} days": Filters.recent(days, today=today),
            "90 days, web": Filters.recent(90, today=today, channel="web"),
            "30 days, one intent": Filters.recent(30, today=today, intent="intent_03"),
            "all, per week": Filters.recent(days, today=today, granularity="week")}


class CpuClock:
    """CPU seconds a figure cost: this process (SQLite runs in it, and every figure's Python work), plus for
    PostgreSQL the server process of the one pooled connection (from /proc, in 10 ms ticks; parallel workers
    are switched off so it does all the work). On a shared, loaded machine wall time is inflated by waiting
    for a core; CPU time is not."""

    def __init__(self, engine) -> None:
        self.pid = None
        if engine.dialect.name == "postgresql":
            with engine.connect() as c:
                self.pid = c.execute(text("SELECT pg_backend_pid()")).scalar()

    def __call__(self) -> float:
        if self.pid is None:
            return time.process_time()
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return time.process_time() + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(fn, repeat: int, cpu: CpuClock) -> tuple[list[float], list[float]]:
    wall, used = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), cpu()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        used.append((cpu() - c0) * 1000)
    return wall, used


def bench(engine, days: int, repeat: int) -> None:
    """Print wall and CPU p50 / p95 of every figure (all filters together) and its worst filter, then drills."""
    a = Analytics(session_factory(engine))
    fs = filters(days)
    cpu = CpuClock(engine)
    print(f"{'figure':<38} {'wall p50':>9} {'wall p95':>9} {'cpu p50':>8} {'cpu p95':>8}  worst filter (cpu p95)",
          flush=True)
    for figure in a.figure_ids:
        per = {name: timed(lambda f=f, figure=figure: a.figure(figure, f), repeat, cpu) for name, f in fs.items()}
        wall = [t for w, _ in per.values() for t in w]
        used = [t for _, u in per.values() for t in u]
        worst = max(per, key=lambda n: np.percentile(per[n][1], 95))
        print(f"{figure:<38} {np.percentile(wall, 50):9.1f} {np.percentile(wall, 95):9.1f} {np.percentile(used, 50):8.1f} "
              f"{np.percentile(used, 95):8.1f}  {worst} ({np.percentile(per[worst][1], 95):.1f})", flush=True)
    month = fs["30 days"]
    for figure, key, column in DRILLS:
        wall, used = timed(lambda figure=figure, key=key, column=column: a.drill(figure, month, key, column), repeat, cpu)
        print(f"{'drill ' + figure + ' / ' + key:<38} {np.percentile(wall, 50):9.1f} {np.percentile(wall, 95):9.1f} "
              f"{np.percentile(used, 50):8.1f} {np.percentile(used, 95):8.1f}", flush=True)
    assert engine.pool.checkedin() <= 1, "CPU time is read from one connection's server process"


def has_history(engine) -> bool:
    with engine.connect() as c:
        try:
            return (c.execute(text("SELECT count(*) FROM messages")).scalar() or 0) > 0
        except Exception:
            return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--repeat", type=int, default=10, help="runs of each figure under each filter")
    ap.add_argument("--sqlite-path", type=Path, default=None, help="default: a temporary file")
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/analytics")
    ap.add_argument("--reuse", action="store_true", help="time the history a previous run stored (no seeding)")
    ap.add_argument("--raw", action="store_true", help="time the raw computation (the daily rollups unused)")
    args = ap.parse_args()
    if args.raw:
        rollups.plan = lambda conn, f: None  # every figure reads its whole range from the raw rows
    for db in args.db:
        if db == "sqlite":
            path = args.sqlite_path or Path(tempfile.mkdtemp()) / "analytics.db"
            if not args.reuse:
                path.unlink(missing_ok=True)
            engine = make_engine(f"sqlite:///{path}")
        else:
            engine = make_engine(args.pg_url)
            event.listen(engine, "connect", lambda conn, _: conn.cursor().execute("SET max_parallel_workers_per_gather = 0"))
            if not args.reuse:
                with engine.begin() as c:  # a fresh schema each run
                    c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        if args.reuse and has_history(engine):
            migrate(engine)
            print(f"\n{db}: reusing the stored history")
        else:
            migrate(engine)
            counts = seed(engine, args.conversations, args.days)
            print(f"\n{db}: seeded {counts['conversations']:,} conversations, {counts['messages']:,} messages, "
                  f"{counts['tickets']:,} tickets, {counts['csat']:,} survey answers over {args.days} days "
                  f"in {counts['seconds']} s", flush=True)
        t0 = time.perf_counter()
        days = Analytics(session_factory(engine)).refresh_rollups()
        print(f"{db}: daily rollups rebuilt for {days} days in {time.perf_counter() - t0:.1f} s", flush=True)
        with engine.connect() as c:
            n = [c.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ("conversations", "messages")]
        print(f"{db}: {n[0]:,} conversations, {n[1]:,} messages; {args.repeat} runs per figure and filter")
        bench(engine, args.days, args.repeat)
        engine.dispose()


if __name__ == "__main__":
    main()
