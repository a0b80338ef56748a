"""Agent figures: queue wait (ticket opened -> claimed) and handle time (claimed -> closed), per agent and
per day or week. A ticket the customer cancelled before anyone claimed it was abandoned in the queue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from sqlalchemy import Connection, Row, Select, and_, select

from assistant.analytics.conversations import T, ticket_scope
from assistant.analytics.filters import Filters, bucket, epoch_seconds
from assistant.analytics.tables import Chart, Column, Table
from assistant.storage.models import Agent, table_of

A = table_of(Agent)


def quantile(values: list[float], q: float) -> float | None:
    """The q-quantile (numpy's linear interpolation), rounded to 0.1 s; None for no values."""
    return round(float(np.percentile(values, q * 100)), 1) if values else None


def _durations(conn: Connection, f: Filters, *extra) -> Sequence[Row]:
    d = conn.dialect.name
    wait = epoch_seconds(T.c.claimed_at, d) - epoch_seconds(T.c.created_at, d)
    handle = epoch_seconds(T.c.closed_at, d) - epoch_seconds(T.c.claimed_at, d)
    q = select(*extra, T.c.status, T.c.claimed_at.is_not(None), wait, handle).where(*ticket_scope(f))
    return conn.execute(q).all()


def _stats(rows: list) -> tuple[int, int, int, float | None, float | None, float | None, float | None]:
    """tickets, answered, abandoned, median and p90 wait, median and p90 handle time (seconds)."""
    waits = [float(w) for _, claimed, w, _ in rows if claimed and w is not None]  # PostgreSQL: Decimal
    handles = [float(h) for status, claimed, _, h in rows if claimed and status == "closed" and h is not None]
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
    for agent_id, *rest in _durations(conn, f, T.c.claimed_by):
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
    day = bucket(T.c.created_at, f.granularity, conn.dialect.name)
    groups: dict[str, list] = defaultdict(list)
    for d, *rest in _durations(conn, f, day):
        groups[d].append(rest)
    keys = sorted(groups)
    rows = [[d, *_stats(groups[d])] for d in keys]
    label = "Week of" if f.granularity == "week" else "Day"
    return Table("queue", f"Agent queue per {f.granularity}", (Column("bucket", label, "text"), *STAT_COLUMNS), rows,
                 keys, drill=("tickets", "abandoned"), chart=Chart("line", "bucket", ("wait_p50", "wait_p90")))


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
