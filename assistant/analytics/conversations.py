"""Conversation figures: containment (resolved without a person), hand-offs by reason, per channel and per
day or week.

A conversation counts once its customer wrote or spoke (`first_user_at`: a robot or phone session that never
heard a question is not one); it is contained when no hand-off ticket was ever opened for it
(`handed_off_at`). Both are kept on the conversation's row, so these figures read one index; whole days
without an intent filter read the daily rollups (rollups.py) and only the latest days the raw rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import Connection, Row, Select, and_, case, func, not_, select

from assistant.analytics import rollups
from assistant.analytics.filters import Filters, bucket, day_bucket
from assistant.analytics.tables import Chart, Column, Table, rate
from assistant.storage.models import Conversation, Message, Ticket, table_of

C, M, T = table_of(Conversation), table_of(Message), table_of(Ticket)


def with_intent(f: Filters, conversation_id):
    """Conversations in which the customer asked something of the intent filtered on."""
    asked = select(M.c.conversation_id).where(M.c.intent == f.intent, M.c.role == "user", f.during(M.c.created_at))
    return conversation_id.in_(asked)


def in_scope(f: Filters):
    """Conversations started in the range, on the channel, with a customer message (of the intent)."""
    parts = [f.during(C.c.created_at), f.on_channel(C.c.channel), C.c.first_user_at.is_not(None)]
    if f.intent:
        parts.append(with_intent(f, C.c.id))
    return and_(*parts)


def handed_off():
    return C.c.handed_off_at.is_not(None)


def _counts(conn: Connection, f: Filters, *by: Literal["bucket", "channel"]) -> Sequence[Row]:
    """(*by, conversations, handed off), grouped and ordered by `by`."""
    d = conn.dialect.name
    p = None if f.intent else rollups.plan(conn, f)
    raw = f if p is None else p.raw
    parts = []
    if raw is not None:
        cols = {"bucket": bucket(C.c.created_at, f.granularity, d), "channel": C.c.channel}
        group = [cols[k].label(k) for k in by]
        parts.append(select(*group, func.count().label("n"), func.sum(case((handed_off(), 1), else_=0)).label("handed"))
                     .where(in_scope(raw)).group_by(*group))
    if p is not None:
        R = rollups.CONVERSATIONS
        cols = {"bucket": day_bucket(R.c.day, f.granularity, d), "channel": R.c.channel}
        parts.append(select(*(cols[k].label(k) for k in by), R.c.n, R.c.handed)
                     .where(p.on_days(R.c.day), f.on_channel(R.c.channel)))
    q = rollups.summed(parts, by, ("n", "handed"))
    return conn.execute(q.order_by(*(q.selected_columns[k] for k in by))).all()


def overview(conn: Connection, f: Filters) -> Table:
    n, handed = _counts(conn, f)[0]
    n, handed = n or 0, handed or 0
    rows = [["Conversations", n], ["Contained (no person)", n - handed], ["Containment rate", rate(n - handed, n)],
            ["Handed off", handed], ["Hand-off rate", rate(handed, n)]]
    return Table("overview", "Overview", (Column("metric", "Metric", "text"), Column("value", "Value", "number")),
                 rows, ["conversations", "contained", "contained", "handed_off", "handed_off"], drill=("value",),
                 note="Contained: no hand-off ticket was opened for the conversation.")


def channels(conn: Connection, f: Filters) -> Table:
    rows = [[ch, n, n - h, rate(n - h, n), h, rate(h, n)] for ch, n, h in _counts(conn, f, "channel")]
    cols = (Column("channel", "Channel", "text"), Column("conversations", "Conversations"),
            Column("contained", "Contained"), Column("containment", "Containment", "rate"),
            Column("handed_off", "Handed off"), Column("handoff_rate", "Hand-off rate", "rate"))
    return Table("channels", "Per channel", cols, rows, [r[0] for r in rows],
                 drill=("conversations", "contained", "handed_off"),
                 chart=Chart("bar", "channel", ("contained", "handed_off"), stacked=True))


def series(conn: Connection, f: Filters) -> Table:
    """Per day or week: conversations, contained, handed off, and conversations on each channel."""
    found = _counts(conn, f, "bucket", "channel")
    names = sorted({ch for _, ch, _, _ in found})
    by_day: dict[str, list] = {}
    for d, ch, n, h in found:
        row = by_day.setdefault(d, [d, 0, 0, 0, None] + [0] * len(names))
        row[1] += n
        row[3] += h
        row[5 + names.index(ch)] = n
    for row in by_day.values():
        row[2], row[4] = row[1] - row[3], rate(row[1] - row[3], row[1])
    cols = (Column("bucket", "Week of" if f.granularity == "week" else "Day", "text"),
            Column("conversations", "Conversations"), Column("contained", "Contained"), Column("handed_off", "Handed off"),
            Column("containment", "Containment", "rate"), *(Column(ch, f"On {ch}") for ch in names))
    rows = [by_day[d] for d in sorted(by_day)]
    return Table("series", f"Conversations per {f.granularity}", cols, rows, [r[0] for r in rows],
                 drill=("conversations", "contained", "handed_off", *names),
                 chart=Chart("bar", "bucket", tuple(names), stacked=True))


def handoff_reasons(conn: Connection, f: Filters) -> Table:
    total = _counts(conn, f)[0][0] or 0
    q = select(T.c.reason, func.count().label("n")).where(*ticket_scope(f)).group_by(T.c.reason) \
        .order_by(func.count().desc(), T.c.reason)
    rows = [[reason, n, rate(n, total)] for reason, n in conn.execute(q).all()]
    cols = (Column("reason", "Reason", "text"), Column("tickets", "Hand-offs"),
            Column("rate", "Share of conversations", "rate"))
    return Table("handoff_reasons", "Hand-offs by reason", cols, rows, [r[0] for r in rows], drill=("tickets",),
                 chart=Chart("bar", "reason", ("tickets",)))


def ticket_scope(f: Filters) -> list:
    parts = [f.during(T.c.created_at), f.on_channel(T.c.channel)]
    if f.intent:
        parts.append(with_intent(f, T.c.conversation_id))
    return parts


# ---- the conversations behind a figure


def drill(figure: str, f: Filters, key: str, column: str, dialect: str) -> Select | None:
    """A select of conversation ids behind one cell of these figures (None: not a cell of theirs)."""
    ids = select(C.c.id.label("cid"), C.c.created_at.label("at"))
    if figure == "overview":
        keep = {"conversations": None, "contained": not_(handed_off()), "handed_off": handed_off()}
        if key not in keep:
            return None
        return ids.where(in_scope(f), *([keep[key]] if keep[key] is not None else []))
    if figure in ("channels", "series"):
        where = [in_scope(f)]
        if figure == "channels":
            where.append(C.c.channel == key)
        else:
            where.append(bucket(C.c.created_at, f.granularity, dialect) == key)
            if column not in ("conversations", "contained", "handed_off"):
                where.append(C.c.channel == column)
        if column == "contained":
            where.append(not_(handed_off()))
        elif column == "handed_off":
            where.append(handed_off())
        return ids.where(*where)
    if figure == "handoff_reasons":
        return select(T.c.conversation_id.label("cid"), T.c.created_at.label("at")).where(*ticket_scope(f),
                                                                                          T.c.reason == key)
    return None
