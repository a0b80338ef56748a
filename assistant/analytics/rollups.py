"""Daily rollups of the dashboard's counts, and how a figure splits its range between them and the raw rows.

Rule: a figure reads a day from the rollups only when the day was rebuilt (`rollup_days`) and nothing was written
to it since (`rollup_dirty_days`, marked by triggers on messages and conversations, migration 0014); every other
day of its range it reads from the raw rows, in the same statement. So a figure equals the raw computation at
any moment, and is fast once most of its days are rebuilt. Example: with every day up to yesterday rebuilt and
messages written today, a 30-day routes figure sums 29 days of `rollup_replies` and counts today's messages.
Rebuilding (rollup_refresh.py) turns dirty days into rollup rows; drill-downs always read the raw rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import BigInteger, Connection, Select, and_, cast, false, func, or_, select, union_all

from assistant.analytics.filters import Filters
from assistant.handoff.policy import HandoffPolicy
from assistant.storage.analytics_tables import (
    RollupConversation,
    RollupDay,
    RollupDirtyDay,
    RollupDocRating,
    RollupQuestion,
    RollupReply,
    RollupTickets,
)
from assistant.storage.models import table_of

DAYS, DIRTY = table_of(RollupDay), table_of(RollupDirtyDay)
REPLIES, QUESTIONS = table_of(RollupReply), table_of(RollupQuestion)
CONVERSATIONS, DOCS, TICKETS = table_of(RollupConversation), table_of(RollupDocRating), table_of(RollupTickets)
# rollup_replies.low counts replies under the shipped hand-off policy's low-confidence threshold; a bank's own
# policy with another threshold makes those figures read the raw rows (messages.route_counts)
LOW = HandoffPolicy.load().low_confidence_threshold


@dataclass(frozen=True, slots=True)
class RawSlice(Filters):
    """Filters whose period is the given half-open UTC ranges (the days a figure reads from the raw rows)."""

    ranges: tuple[tuple[datetime, datetime], ...] = ()

    def during(self, column):
        return or_(*(and_(column >= a, column < b) for a, b in self.ranges)) if self.ranges else false()


@dataclass(frozen=True, slots=True)
class Plan:
    rolled: tuple[tuple[str, str], ...]  # [first, end) day ranges read from the rollups, "2026-03-02"
    raw: RawSlice | None  # the other days, read from the raw rows (None: no such day)

    def on_days(self, column):
        return or_(*(and_(column >= a, column < b) for a, b in self.rolled))


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(), UTC)


def is_midnight(t: datetime) -> bool:
    """Midnight UTC: where a rolled-up day starts."""
    return t.tzinfo is not None and t.utcoffset() == timedelta(0) and t.timetz().replace(tzinfo=None) == time()


def _runs(days: list[date], inside: set[str]) -> tuple[list[tuple[date, date]], list[tuple[date, date]]]:
    """Contiguous runs of days in `inside` and of days outside it, as [first, end) ranges."""
    runs: tuple[list[tuple[date, date]], list[tuple[date, date]]] = ([], [])
    for d in days:
        out = runs[0] if d.isoformat() in inside else runs[1]
        if out and out[-1][1] == d:
            out[-1] = (out[-1][0], d + timedelta(days=1))
        else:
            out.append((d, d + timedelta(days=1)))
    return runs


def plan(conn: Connection, f: Filters) -> Plan | None:
    """How to read f's period: None when the rollups cover none of it (or it is not whole UTC days)."""
    if not (is_midnight(f.start) and is_midnight(f.end)) or f.end <= f.start:
        return None
    first, end = f.start.date(), f.end.date()
    q = select(DAYS.c.day).where(DAYS.c.day >= first.isoformat(), DAYS.c.day < end.isoformat(),
                                 DAYS.c.day.not_in(select(DIRTY.c.day)))
    usable = {d for (d,) in conn.execute(q)}
    if not usable:
        return None
    rolled, raw = _runs([first + timedelta(days=i) for i in range((end - first).days)], usable)
    ranges = tuple((_midnight(a), _midnight(b)) for a, b in raw)
    return Plan(tuple((a.isoformat(), b.isoformat()) for a, b in rolled),
                RawSlice(f.start, f.end, f.channel, f.intent, f.granularity, ranges=ranges) if ranges else None)


def summed(parts: list[Select], keys: tuple[str, ...], sums: tuple[str, ...]) -> Select:
    """One select over the parts (each selects `keys` then `sums`, labelled): the sums per key, as integers."""
    u = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    q = select(*(u.c[k] for k in keys), *(cast(func.sum(u.c[s]), BigInteger).label(s) for s in sums))
    return q.group_by(*(u.c[k] for k in keys)) if keys else q
