"""Rebuilding the daily rollups (rollups.py): each dirty day, oldest first, in a transaction of its own that
unmarks it, deletes its rollup rows, counts its raw rows again and marks it rebuilt. A write to the day while
it is rebuilt marks it dirty again (the trigger's insert waits for this transaction on PostgreSQL; SQLite takes
one writer at a time), so a rebuilt day that is not dirty always equals its raw rows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import date

from sqlalchemy import Connection, case, delete, func, insert, select
from sqlalchemy.orm import sessionmaker

from assistant.analytics import rollups
from assistant.analytics.agents import Queue, pack, raw_queues
from assistant.analytics.conversations import C, handed_off
from assistant.analytics.filters import Filters
from assistant.analytics.messages import M
from assistant.analytics.outcomes import NO_SOURCE, doc_ratings, rated

log = logging.getLogger(__name__)
R = rollups


def _replies(conn: Connection, f: Filters) -> list[dict]:
    low = func.sum(case((M.c.intent_confidence < R.LOW, 1), else_=0))
    q = select(M.c.channel, M.c.path, func.count(), low).where(M.c.role == "assistant", f.during(M.c.created_at)) \
        .group_by(M.c.channel, M.c.path)
    return [{"channel": ch, "path": p, "n": n, "low": int(lo or 0)} for ch, p, n, lo in conn.execute(q)]


def _questions(conn: Connection, f: Filters) -> list[dict]:
    q = select(M.c.channel, M.c.intent, func.count()) \
        .where(M.c.role == "user", M.c.intent.is_not(None), f.during(M.c.created_at)).group_by(M.c.channel, M.c.intent)
    return [{"channel": ch, "intent": i, "n": n} for ch, i, n in conn.execute(q)]


def _conversations(conn: Connection, f: Filters) -> list[dict]:
    q = select(C.c.channel, func.count(), func.sum(case((handed_off(), 1), else_=0))) \
        .where(f.during(C.c.created_at), C.c.first_user_at.is_not(None)).group_by(C.c.channel)
    return [{"channel": ch, "n": n, "handed": int(h or 0)} for ch, n, h in conn.execute(q)]


def _doc_ratings(conn: Connection, f: Filters) -> list[dict]:
    per_channel: dict[str, list] = {}
    for ch, citations, feedback in conn.execute(select(M.c.channel, M.c.citations, M.c.feedback).where(*rated(f))):
        per_channel.setdefault(ch, []).append((citations, feedback))
    out = []
    for ch, rows in per_channel.items():
        down: Counter[str] = Counter()
        up: Counter[str] = Counter()
        titles: dict[str, str] = {}
        doc_ratings(rows, down, up, titles)
        out += [{"channel": ch, "doc_id": d, "title": "" if d == NO_SOURCE else titles.get(d, ""),
                 "down": down[d], "up": up[d]} for d in sorted(set(down) | set(up))]
    return out


def _tickets(conn: Connection, f: Filters) -> list[dict]:
    per_channel: dict[str, dict[int | None, Queue]] = {}
    for (_, ch, by), q in raw_queues(conn, f).items():
        per_channel.setdefault(ch, {})[by] = q
    return [dict(zip(("channel", "groups", "durations"), (ch, *pack(groups)), strict=True))
            for ch, groups in per_channel.items()]


BUILDERS = ((R.REPLIES, _replies), (R.QUESTIONS, _questions), (R.CONVERSATIONS, _conversations),
            (R.DOCS, _doc_ratings), (R.TICKETS, _tickets))


def rebuild_day(conn: Connection, day: str) -> None:
    """Count one day's raw rows into the rollups, in the caller's transaction."""
    d = date.fromisoformat(day)
    f = Filters.between(d, d)
    conn.execute(delete(R.DIRTY).where(R.DIRTY.c.day == day))  # first: a write after this marks it again
    for table, build in BUILDERS:
        conn.execute(delete(table).where(table.c.day == day))
        rows = build(conn, f)
        if rows:
            conn.execute(insert(table), [{"day": day, **r} for r in rows])
    conn.execute(delete(R.DAYS).where(R.DAYS.c.day == day))
    conn.execute(insert(R.DAYS).values(day=day))


def refresh(sessions: sessionmaker, *, limit: int | None = None) -> int:
    """Rebuild the dirty days, oldest first (at most `limit`); the number rebuilt."""
    with sessions() as s:
        days = [d for (d,) in s.execute(select(R.DIRTY.c.day).order_by(R.DIRTY.c.day).limit(limit))]
    for day in days:
        with sessions.begin() as s:
            rebuild_day(s.connection(), day)
    return len(days)


class Refresher:
    """Rebuilds dirty days in a background thread at most every `every_s` seconds, one run at a time; the
    dashboard calls `soon()` on each read and never waits for it."""

    def __init__(self, sessions: sessionmaker, every_s: float) -> None:
        self._sessions, self._every = sessions, every_s
        self._running = threading.Lock()
        self._last = float("-inf")

    def soon(self) -> None:
        now = time.monotonic()
        if now - self._last < self._every or not self._running.acquire(blocking=False):
            return
        self._last = now
        threading.Thread(target=self._run, name="analytics-rollups", daemon=True).start()

    def _run(self) -> None:
        try:
            n = refresh(self._sessions)
            if n:
                log.info("analytics rollups: %d day(s) rebuilt", n)
        except Exception:  # the figures stay exact (dirty days read raw); try again on a later read
            log.exception("analytics rollups: refresh failed")
        finally:
            self._running.release()
