"""Outcome figures: thumbs-down by cited document, and self-service flows started, completed, abandoned.

A flow starts on a reply whose route is flow_start (or verify: it waits for the customer to sign in) and
ends on a reply whose flow_outcome is completed, cancelled, failed or handoff; a start with no end after
it in its conversation was abandoned (the customer left, or switched to another flow).
"""

from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import Connection, Select, Text, and_, cast, exists, func, select

from assistant.analytics import rollups
from assistant.analytics.filters import Filters
from assistant.analytics.messages import M
from assistant.analytics.tables import Chart, Column, Table, rate

STARTS = ("flow_start", "verify")
ENDS = ("completed", "cancelled", "failed", "handoff")
NO_SOURCE = "(no source)"
N = M.alias("later")


def _doc_ids(citations) -> list[str]:
    if isinstance(citations, str):  # a driver that hands JSON back as text
        citations = json.loads(citations)
    ids: list[str] = [c["doc_id"] for c in citations or () if isinstance(c, dict) and c.get("doc_id")]
    return list(dict.fromkeys(ids)) or [NO_SOURCE]


def rated(f: Filters) -> list:
    """Rated replies in the range (only assistant messages are rated): the partial index on feedback."""
    return [M.c.feedback.in_((-1, 1)), f.during(M.c.created_at), f.on_channel(M.c.channel),
            *([M.c.intent == f.intent] if f.intent else [])]


def in_flows(f: Filters) -> list:
    """Replies of self-service flows in the range (only assistant messages carry a flow): the partial index."""
    return [M.c.flow.is_not(None), f.during(M.c.created_at), f.on_channel(M.c.channel),
            *([M.c.intent == f.intent] if f.intent else [])]


def doc_ratings(rows, down: Counter[str], up: Counter[str], titles: dict[str, str]) -> None:
    """Add rated replies (citations, feedback) to the thumbs down / up per cited document, and their titles."""
    for citations, feedback in rows:
        for doc in _doc_ids(citations):
            (down if feedback < 0 else up)[doc] += 1
        for c in (json.loads(citations) if isinstance(citations, str) else citations) or ():
            if isinstance(c, dict) and c.get("doc_id"):
                titles.setdefault(c["doc_id"], c.get("title") or "")


def thumbs_down_docs(conn: Connection, f: Filters, limit: int = 25) -> Table:
    """Per cited document: replies rated down and up (a reply citing two documents counts for both)."""
    p = None if f.intent else rollups.plan(conn, f)
    raw = f if p is None else p.raw
    down: Counter[str] = Counter()
    up: Counter[str] = Counter()
    titles: dict[str, str] = {}
    if p is not None:
        D = rollups.DOCS
        q = select(D.c.doc_id, func.sum(D.c.down), func.sum(D.c.up), func.max(D.c.title)) \
            .where(p.on_days(D.c.day), f.on_channel(D.c.channel)).group_by(D.c.doc_id)
        for doc, n_down, n_up, title in conn.execute(q):
            down[doc], up[doc] = int(n_down), int(n_up)
            if doc != NO_SOURCE:
                titles[doc] = title
    if raw is not None:
        doc_ratings(conn.execute(select(M.c.citations, M.c.feedback).where(*rated(raw))), down, up, titles)
    docs = sorted(set(down) | set(up), key=lambda d: (-down[d], -up[d], d))
    shown = [d for d in docs if down[d]][:limit]
    rows = [[d, titles.get(d, ""), down[d], up[d], rate(down[d], down[d] + up[d])] for d in shown]
    cols = (Column("doc_id", "Document", "text"), Column("title", "Title", "text"), Column("thumbs_down", "Thumbs down"),
            Column("thumbs_up", "Thumbs up"), Column("down_share", "Share down", "rate"))
    return Table("thumbs_down_docs", "Thumbs-down by document", cols, rows, shown,
                 drill=("thumbs_down", "thumbs_up"), chart=Chart("bar", "doc_id", ("thumbs_down",)))


def flows(conn: Connection, f: Filters) -> Table:
    q = select(M.c.flow, M.c.route, M.c.flow_outcome, func.count()).where(*in_flows(f)) \
        .group_by(M.c.flow, M.c.route, M.c.flow_outcome)
    started: Counter[str] = Counter()
    ended: dict[str, Counter[str]] = {e: Counter() for e in ENDS}
    for flow, route, outcome, n in conn.execute(q):
        if route in STARTS:
            started[flow] += n
        if outcome in ended:
            ended[outcome][flow] += n
    names = sorted(set(started) | {fl for c in ended.values() for fl in c})
    rows: list[list] = []
    for flow in names:
        done = [ended[e][flow] for e in ENDS]
        rows.append([flow, started[flow], *done, max(0, started[flow] - sum(done)),
                     rate(ended["completed"][flow], started[flow])])
    cols = (Column("flow", "Flow", "text"), Column("started", "Started"), Column("completed", "Completed"),
            Column("cancelled", "Cancelled"), Column("failed", "Failed"), Column("handoff", "Handed off"),
            Column("abandoned", "Abandoned"), Column("completion", "Completion", "rate"))
    return Table("flows", "Self-service flows", cols, rows, names,
                 drill=("started", "completed", "cancelled", "failed", "handoff", "abandoned"),
                 chart=Chart("bar", "flow", ("completed", "cancelled", "failed", "handoff", "abandoned"), stacked=True),
                 note="Abandoned: started, with no end in the conversation after it.")


def _cites(doc: str):
    """Assistant messages whose stored citations name this document (JSON text, as SQLAlchemy writes it)."""
    if doc == NO_SOURCE:
        return func.coalesce(cast(M.c.citations, Text), "[]").not_like('%"doc_id"%')
    escaped = json.dumps(doc).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(M.c.citations, Text).like(f'%"doc_id": {escaped}%', escape="\\")


def drill(figure: str, f: Filters, key: str, column: str) -> Select | None:
    ids = select(M.c.conversation_id.label("cid"), M.c.created_at.label("at"))
    if figure == "thumbs_down_docs":
        return ids.where(*rated(f), M.c.feedback == (1 if column == "thumbs_up" else -1), _cites(key))
    if figure != "flows":
        return None
    mine = [*in_flows(f), M.c.flow == key]
    if column in ENDS:
        return ids.where(*mine, M.c.flow_outcome == column)
    if column not in ("started", "abandoned"):
        return None
    starts = ids.where(*mine, M.c.route.in_(STARTS))
    if column == "started":
        return starts
    ended = exists().where(and_(N.c.conversation_id == M.c.conversation_id, N.c.flow == key, N.c.id >= M.c.id,
                                N.c.flow_outcome.in_(ENDS)))
    return starts.where(~ended)
