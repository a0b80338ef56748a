"""Agent figures: queue wait (ticket opened -> claimed) and handle time (claimed -> closed), per agent and
per day or week. A ticket the customer cancelled before anyone claimed it was abandoned in the queue.
Rebuilt days read each ticket's durations from `rollup_tickets` (rollups.py), the other days the raw rows.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import Connection, Select, and_, select

from assistant.analytics import rollups
from assistant.analytics.conversations import T, ticket_scope
from assistant.analytics.filters import Filters, bucket, epoch_seconds
from assistant.analytics.tables import Chart, Column, Table
from assistant.storage.models import Agent, table_of

A = table_of(Agent)
TicketRow = tuple  # (day, channel, claimed_by, status, claimed, wait_s, handle_s)


def quantile(values: list[float], q: float) -> float | None:
    """The q-quantile, rounded to 0.1 s; None for no values. numpy.percentile(values, q * 100)'s linear method
    step by step (its virtual index and interpolation), so both give the same float."""
    if not values:
        return None
    v, n = sorted(values), len(values)
    qq = (q * 100) / 100
    virtual = n * qq + (1 + qq * -1.0) - 1
    lo = min(max(math.floor(virtual), 0), n - 1)
    hi = min(lo + 1, n - 1)
    t = virtual - lo if 0 <= virtual < n - 1 else 0.0
    a, b = v[lo], v[hi]
    x = b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t
    return round(float(x), 1)


def raw_tickets(conn: Connection, f: Filters) -> list[TicketRow]:
    d = conn.dialect.name
    wait = epoch_seconds(T.c.claimed_at, d) - epoch_seconds(T.c.created_at, d)
    handle = epoch_seconds(T.c.closed_at, d) - epoch_seconds(T.c.claimed_at, d)
    q = select(bucket(T.c.created_at, "day", d), T.c.channel, T.c.claimed_by, T.c.status, T.c.claimed_at.is_not(None),
               wait, handle).where(*ticket_scope(f))
    return [(day, ch, by, status, bool(claimed), None if w is None else float(w), None if h is None else float(h))
            for day, ch, by, status, claimed, w, h in conn.execute(q)]  # PostgreSQL: Decimal seconds


def tickets(conn: Connection, f: Filters) -> list[TicketRow]:
    """Every ticket opened in f: rebuilt days from the rollups, the other days from the raw rows."""
    p = None if f.intent else rollups.plan(conn, f)
    raw = f if p is None else p.raw
    out: list[TicketRow] = []
    if p is not None:
        R = rollups.TICKETS
        q = select(R.c.day, R.c.channel, R.c.tickets).where(p.on_days(R.c.day), f.on_channel(R.c.channel))
        for day, ch, stored in conn.execute(q):
            out += [(day, ch, *t) for t in json.loads(stored)]
    if raw is not None:
        out += raw_tickets(conn, raw)
    return out


def _stats(rows: list) -> tuple[int, int, int, float | None, float | None, float | None, float | None]:
    """tickets, answered, abandoned, median and p90 wait, median and p90 handle time (seconds)."""
    waits = [w for _, claimed, w, _ in rows if claimed and w is not None]
    handles = [h for status, claimed, _, h in rows if claimed and status == "closed" and h is not None]
    abandoned = sum(1 for status, claimed, _, _ in rows if status == "cancelled" and not claimed)
    return (len(rows), len(waits), abandoned, quantile(waits, 0.5), quantile(waits, 0.9), quantile(handles, 0.5),
            quantile(handles, 0.9))


STAT_COLUMNS = (Column("tickets", "Hand-offs"), Column("answered", "Claimed"), Column("abandoned", "Abandoned in queue"),
                Column("wait_p50", "Queue wait, median", "seconds"), Column("wait_p90", "Queue wait, p90", "seconds"),
                Column("handle_p50", "Handle time, median", "seconds"),
                Column("handle_p90", "Handle time, p90", "seconds"))


def agents(conn: Connection, f: Filters) -> Table:
    names = dict(conn.execute(select(A.c.id, A.c.display_name)).all())
    groups: dict[int | None, list] = defaultdict(list)
    for _, _, agent_id, *rest in tickets(conn, f):
        groups[agent_id].append(rest)
    rows, keys = [], []
    for agent_id in sorted((a for a in groups if a is not None), key=lambda a: names.get(a, "")):
        rows.append([names.get(agent_id, f"#{agent_id}"), *_stats(groups[agent_id])])
        keys.append(str(agent_id))
    everyone = [r for g in groups.values() for r in g]
    rows.append(["All (incl. unclaimed)", *_stats(everyone)])
    keys.append("all")
    return Table("agents", "Agents: queue wait and handle time", (Column("agent", "Agent", "text"), *STAT_COLUMNS),
                 rows, keys, drill=("tickets", "abandoned"), chart=Chart("bar", "agent", ("handle_p50", "wait_p50")))


def queue(conn: Connection, f: Filters) -> Table:
    groups: dict[str, list] = defaultdict(list)
    for day, _, _, *rest in tickets(conn, f):
        groups[day if f.granularity == "day" else _monday(day)].append(rest)
    keys = sorted(groups)
    rows = [[d, *_stats(groups[d])] for d in keys]
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
