"""Agent figures: queue wait (ticket opened -> claimed) and handle time (claimed -> closed), per agent and
per day or week. A ticket the customer cancelled before anyone claimed it was abandoned in the queue.
Rebuilt days read each ticket's durations from `rollup_tickets` (rollups.py), the other days the raw rows.
"""

from __future__ import annotations

import json
import math
import sys
from array import array
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy import Connection, Select, and_, select

from assistant.analytics import rollups
from assistant.analytics.conversations import T, ticket_scope
from assistant.analytics.filters import Filters, bucket, epoch_seconds
from assistant.analytics.tables import Chart, Column, Table
from assistant.storage.models import Agent, table_of

A = table_of(Agent)
K = TypeVar("K")


def quantiles(values: list[float], qs: tuple[float, ...]) -> list[float | None]:
    """Each q-quantile, rounded to 0.1 s; None for no values. numpy.percentile(values, q * 100)'s linear method
    step by step (its virtual index and interpolation), so both give the same float."""
    if not values:
        return [None for _ in qs]
    v, n = sorted(values), len(values)
    out: list[float | None] = []
    for q in qs:
        qq = (q * 100) / 100
        virtual = n * qq + (1 + qq * -1.0) - 1
        lo = min(max(math.floor(virtual), 0), n - 1)
        hi = min(lo + 1, n - 1)
        t = virtual - lo if 0 <= virtual < n - 1 else 0.0
        a, b = v[lo], v[hi]
        out.append(round(float(b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t), 1))
    return out


def quantile(values: list[float], q: float) -> float | None:
    return quantiles(values, (q,))[0]


@dataclass
class Queue:
    """The hand-offs of one group: how many, abandoned in the queue, queue waits and handle times (seconds)."""

    n: int = 0
    abandoned: int = 0
    waits: list[float] = field(default_factory=list)
    handles: list[float] = field(default_factory=list)

    def add(self, status: str, claimed: bool, wait: float | None, handle: float | None) -> None:
        self.n += 1
        self.abandoned += status == "cancelled" and not claimed
        if claimed and wait is not None:
            self.waits.append(wait)
        if claimed and status == "closed" and handle is not None:
            self.handles.append(handle)

    def merge(self, other: Queue) -> Queue:
        self.n, self.abandoned = self.n + other.n, self.abandoned + other.abandoned
        self.waits += other.waits
        self.handles += other.handles
        return self

    def stats(self) -> tuple:
        """tickets, answered, abandoned, median and p90 wait, median and p90 handle time."""
        return (self.n, len(self.waits), self.abandoned, *quantiles(self.waits, (0.5, 0.9)),
                *quantiles(self.handles, (0.5, 0.9)))


def raw_queues(conn: Connection, f: Filters) -> dict[tuple[str, str, int | None], Queue]:
    """Per (day, channel, agent who claimed it) the tickets opened in f."""
    d = conn.dialect.name
    wait = epoch_seconds(T.c.claimed_at, d) - epoch_seconds(T.c.created_at, d)
    handle = epoch_seconds(T.c.closed_at, d) - epoch_seconds(T.c.claimed_at, d)
    q = select(bucket(T.c.created_at, "day", d), T.c.channel, T.c.claimed_by, T.c.status, T.c.claimed_at.is_not(None),
               wait, handle).where(*ticket_scope(f))
    out: dict[tuple[str, str, int | None], Queue] = defaultdict(Queue)
    for day, ch, by, status, claimed, w, h in conn.execute(q):  # PostgreSQL: Decimal seconds
        out[day, ch, by].add(status, bool(claimed), None if w is None else float(w), None if h is None else float(h))
    return out


def pack(groups: dict[int | None, Queue]) -> tuple[str, bytes]:
    """A day and channel's queues as rollup_tickets stores them (groups, durations)."""
    durations = array("d")
    for q in groups.values():
        durations.extend(q.waits)
        durations.extend(q.handles)
    if sys.byteorder != "little":
        durations.byteswap()
    header = [[by, q.n, q.abandoned, len(q.waits), len(q.handles)] for by, q in groups.items()]
    return json.dumps(header), durations.tobytes()


def _unpacked(packed: bytes) -> list[float]:
    durations = array("d")
    durations.frombytes(packed)
    if sys.byteorder != "little":
        durations.byteswap()
    return durations.tolist()


def queues(conn: Connection, f: Filters, key: Callable[[str, int | None], K]) -> dict[K, Queue]:
    """The tickets of f per key(day, agent who claimed them): rebuilt days from `rollup_tickets`, the other days
    from the raw rows. Example: key=lambda day, agent: agent gives one Queue per agent."""
    p = None if f.intent else rollups.plan(conn, f)
    raw = f if p is None else p.raw
    out: dict[K, Queue] = defaultdict(Queue)
    if p is not None:
        R = rollups.TICKETS
        found = conn.execute(select(R.c.day, R.c.groups, R.c.durations)
                             .where(p.on_days(R.c.day), f.on_channel(R.c.channel))).all()
        headers = json.loads("[" + ",".join(g for _, g, _ in found) + "]")  # one decode, not one a row
        for (day, _, packed), groups in zip(found, headers, strict=True):
            values, at = _unpacked(packed), 0
            for by, n, abandoned, waits, handles in groups:
                q = out[key(day, by)]
                q.n, q.abandoned = q.n + n, q.abandoned + abandoned
                q.waits += values[at:at + waits]
                q.handles += values[at + waits:at + waits + handles]
                at += waits + handles
    for (day, _, by), q in (raw_queues(conn, raw).items() if raw is not None else ()):
        out[key(day, by)].merge(q)
    return out


STAT_COLUMNS = (Column("tickets", "Hand-offs"), Column("answered", "Claimed"), Column("abandoned", "Abandoned in queue"),
                Column("wait_p50", "Queue wait, median", "seconds"), Column("wait_p90", "Queue wait, p90", "seconds"),
                Column("handle_p50", "Handle time, median", "seconds"),
                Column("handle_p90", "Handle time, p90", "seconds"))


def agents(conn: Connection, f: Filters) -> Table:
    names = dict(conn.execute(select(A.c.id, A.c.display_name)).all())
    groups = queues(conn, f, lambda _, agent_id: agent_id)
    everyone = Queue()
    for q in groups.values():
        everyone.merge(q)
    rows, keys = [], []
    for agent_id in sorted((a for a in groups if a is not None), key=lambda a: names.get(a, "")):
        rows.append([names.get(agent_id, f"#{agent_id}"), *groups[agent_id].stats()])
        keys.append(str(agent_id))
    rows.append(["All (incl. unclaimed)", *everyone.stats()])
    keys.append("all")
    return Table("agents", "Agents: queue wait and handle time", (Column("agent", "Agent", "text"), *STAT_COLUMNS),
                 rows, keys, drill=("tickets", "abandoned"), chart=Chart("bar", "agent", ("handle_p50", "wait_p50")))


def queue(conn: Connection, f: Filters) -> Table:
    groups = queues(conn, f, (lambda day, _: day) if f.granularity == "day" else (lambda day, _: _monday(day)))
    keys = sorted(groups)
    rows = [[d, *groups[d].stats()] for d in keys]
    label = "Week of" if f.granularity == "week" else "Day"
    return Table("queue", f"Agent queue per {f.granularity}", (Column("bucket", label, "text"), *STAT_COLUMNS), rows,
                 keys, drill=("tickets", "abandoned"), chart=Chart("line", "bucket", ("wait_p50", "wait_p90")))


def _monday(day: str) -> str:
    d = date.fromisoformat(day)
    return (d - timedelta(days=d.weekday())).isoformat()


def drill(figure: str, f: Filters, key: str, column: str, dialect: str) -> Select | None:
    if figure not in ("agents", "queue"):
        return None
    where = ticket_scope(f)
    if figure == "agents" and key != "all":
        if not key.isdigit():
            return None
        where.append(T.c.claimed_by == int(key))
    elif figure == "queue":
        where.append(bucket(T.c.created_at, f.granularity, dialect) == key)
    if column == "abandoned":
        where.append(and_(T.c.status == "cancelled", T.c.claimed_at.is_(None)))
    return select(T.c.conversation_id.label("cid"), T.c.created_at.label("at")).where(*where)
