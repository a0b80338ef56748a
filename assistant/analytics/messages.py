"""Message figures: answer routes, top and rising intents, unanswered and low-confidence questions.

Every assistant message stores its answer route (`path`) and the intent of the turn; a customer message
stores the intent and its confidence. The question behind a reply is the customer message just before it.
The counts read whole days from the daily rollups where they can (rollups.py); the latest rows read raw.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Row, Select, case, func, literal_column, or_, select

from assistant.analytics import rollups
from assistant.analytics.filters import Filters
from assistant.analytics.tables import Chart, Column, Table, rate
from assistant.storage.models import Message, table_of

M = table_of(Message)
Q = M.alias("q")
LOW_CONFIDENCE = rollups.LOW  # the hand-off policy's low-confidence threshold (assistant/handoff/policy.yaml)
UNSERVED = ("no_answer", "clarify")
PATHS = {
    "faq": "FAQ", "extractive": "Quoted", "generated": "Generated", "refused": "Refused (out of scope)",
    "clarify": "Clarifying question", "no_answer": "No answer", "flow": "Self-service flow", "handoff": "Hand-off",
    "small_talk": "Small talk", "declined": "Declined (advice, not offered)", "rephrase": "Asked to rephrase",
    "error": "Error", "human": "Agent", "interrupted": "Interrupted (voice)",
}


def scope(f: Filters, role: str, *, intent: bool = True) -> list:
    parts = [M.c.role == role, f.during(M.c.created_at), f.on_channel(M.c.channel)]
    if intent and f.intent:
        parts.append(M.c.intent == f.intent)
    return parts


def route_counts(conn: Connection, f: Filters, low_confidence: float = LOW_CONFIDENCE) -> list[Row]:
    """(path, replies, of them under low_confidence) per answer route, most replies first."""
    p = rollups.plan(conn, f) if not f.intent and low_confidence == rollups.LOW else None
    raw = f if p is None else p.raw
    low = case((M.c.intent_confidence < low_confidence, 1), else_=0)
    parts = [] if raw is None else [
        select(M.c.path.label("path"), func.count().label("n"), func.sum(low).label("low"))
        .where(*scope(raw, "assistant")).group_by(M.c.path)]
    if p is not None:
        R = rollups.REPLIES
        parts.append(select(R.c.path, R.c.n, R.c.low).where(p.on_days(R.c.day), f.on_channel(R.c.channel)))
    q = rollups.summed(parts, ("path",), ("n", "low"))
    return list(conn.execute(q.order_by(q.selected_columns.n.desc(), q.selected_columns.path)).all())


def routes(conn: Connection, f: Filters) -> Table:
    found = [(path, n) for path, n, _ in route_counts(conn, f)]
    total = sum(n for _, n in found)
    rows = [[PATHS.get(p or "", p or "(none)"), n, rate(n, total)] for p, n in found]
    cols = (Column("route", "Answer route", "text"), Column("replies", "Replies"), Column("share", "Share", "rate"))
    return Table("routes", "Answer routes", cols, rows, [p or "" for p, _ in found], drill=("replies",),
                 chart=Chart("bar", "route", ("replies",)))


def question_counts(conn: Connection, f: Filters, since: datetime | None = None) -> Select:
    """(intent, current, n) per intent of the customer's questions in f; `current`: of them from `since` on."""
    p = rollups.plan(conn, f) if since is None or rollups.is_midnight(since) else None
    raw = f if p is None else p.raw
    now = case((M.c.created_at >= since, 1), else_=0) if since else literal_column("0")
    parts = [] if raw is None else [
        select(M.c.intent.label("intent"), func.sum(now).label("current"), func.count().label("n"))
        .where(*scope(raw, "user"), M.c.intent.is_not(None)).group_by(M.c.intent)]
    if p is not None:
        Q = rollups.QUESTIONS
        later = case((Q.c.day >= since.date().isoformat(), Q.c.n), else_=0) if since else literal_column("0")
        parts.append(select(Q.c.intent, later.label("current"), Q.c.n).where(p.on_days(Q.c.day), f.on_channel(Q.c.channel),
                                                             *([Q.c.intent == f.intent] if f.intent else [])))
    return rollups.summed(parts, ("intent",), ("current", "n"))


def intents_top(conn: Connection, f: Filters, limit: int = 20) -> Table:
    q = question_counts(conn, f)
    found = [(i, n) for i, _, n in conn.execute(q.order_by(q.selected_columns.n.desc(), q.selected_columns.intent))]
    total = sum(n for _, n in found)
    rows = [[i, n, rate(n, total)] for i, n in found[:limit]]
    cols = (Column("intent", "Intent", "text"), Column("questions", "Questions"), Column("share", "Share", "rate"))
    return Table("intents_top", "Top intents", cols, rows, [r[0] for r in rows], drill=("questions",),
                 chart=Chart("bar", "intent", ("questions",)))


def intents_rising(conn: Connection, f: Filters, limit: int = 10, min_count: int = 3) -> Table:
    """Intents asked more in this period than in the one before it, by the increase in questions."""
    before = f.previous()
    both = Filters(before.start, f.end, f.channel, f.intent)
    q = question_counts(conn, both, since=f.start)
    found = [(i, int(cur or 0), int(n) - int(cur or 0)) for i, cur, n in conn.execute(q).all()]
    rising = sorted((r for r in found if r[1] >= min_count and r[1] > r[2]), key=lambda r: (r[2] - r[1], r[0]))
    rows = [[i, cur, prev, cur - prev, rate(cur - prev, prev)] for i, cur, prev in rising[:limit]]
    cols = (Column("intent", "Intent", "text"), Column("current", "This period"), Column("previous", "Period before"),
            Column("change", "Change"), Column("growth", "Growth", "rate"))
    return Table("intents_rising", "Rising intents", cols, rows, [r[0] for r in rows], drill=("current", "previous"),
                 chart=Chart("bar", "intent", ("previous", "current")),
                 note=f"Compared with {before.start:%Y-%m-%d} to {(f.start):%Y-%m-%d}; at least {min_count} questions.")


def unserved(low_confidence: float):
    return or_(M.c.path.in_(UNSERVED), M.c.intent_confidence < low_confidence)


def question_of(reply=M):
    """The customer message just before an assistant message (a scalar subquery of its text)."""
    return select(Q.c.text).where(Q.c.conversation_id == reply.c.conversation_id, Q.c.role == "user",
                                  Q.c.id < reply.c.id).order_by(Q.c.id.desc()).limit(1).scalar_subquery()


def unanswered_summary(conn: Connection, f: Filters, low_confidence: float = LOW_CONFIDENCE) -> Table:
    found = {path: (int(n), int(low or 0)) for path, n, low in route_counts(conn, f, low_confidence)}
    total, low_n = sum(n for n, _ in found.values()), sum(low for _, low in found.values())
    none, clarify = found.get("no_answer", (0, 0))[0], found.get("clarify", (0, 0))[0]
    either = sum(n if path in UNSERVED else low for path, (n, low) in found.items())
    rows: list[list] = [["Replies", total], ["No answer", none], ["Clarifying question", clarify],
            [f"Low confidence (under {low_confidence})", low_n], ["Unanswered or low confidence", either],
            ["Share of replies", rate(either, total)]]
    return Table("unanswered_summary", "Unanswered and low-confidence questions",
                 (Column("metric", "Metric", "text"), Column("value", "Value", "number")), rows,
                 ["all", "no_answer", "clarify", "low_confidence", "unserved", "unserved"], drill=("value",))


def unanswered(conn: Connection, f: Filters, low_confidence: float, limit: int = 100) -> Table:
    """The latest questions that got no answer, a clarifying question, or a low-confidence intent."""
    q = select(M.c.created_at, question_of().label("question"), M.c.path, M.c.intent, M.c.intent_confidence,
               M.c.channel, M.c.conversation_id) \
        .where(*scope(f, "assistant"), unserved(low_confidence)).order_by(M.c.created_at.desc()).limit(limit)
    found = conn.execute(q).all()
    rows = [[at.strftime("%Y-%m-%d %H:%M"), text or "", PATHS.get(p or "", p), i,
             None if c is None else round(c, 3), ch] for at, text, p, i, c, ch, _ in found]
    cols = (Column("asked", "Asked (UTC)", "text"), Column("question", "Question", "text"),
            Column("route", "Reply", "text"), Column("intent", "Intent", "text"),
            Column("confidence", "Confidence", "score"), Column("channel", "Channel", "text"))
    return Table("unanswered", "Latest unanswered questions", cols, rows, [r.conversation_id for r in found],
                 drill=("question",), note=f"The latest {limit}; redacted as stored.")


def drill(figure: str, f: Filters, key: str, column: str, low_confidence: float) -> Select | None:
    ids = select(M.c.conversation_id.label("cid"), M.c.created_at.label("at"))
    if figure == "routes":
        return ids.where(*scope(f, "assistant"), M.c.path == key if key else M.c.path.is_(None))
    if figure == "intents_top":
        return ids.where(*scope(f, "user", intent=False), M.c.intent == key)
    if figure == "intents_rising":
        period = f.previous() if column == "previous" else f
        return ids.where(*scope(period, "user", intent=False), M.c.intent == key)
    if figure == "unanswered":
        return ids.where(M.c.conversation_id == key)
    if figure == "unanswered_summary":
        low = M.c.intent_confidence < low_confidence
        where = {"all": None, "no_answer": M.c.path == "no_answer", "clarify": M.c.path == "clarify",
                 "low_confidence": low, "unserved": unserved(low_confidence)}
        if key not in where:
            return None
        return ids.where(*scope(f, "assistant"), *([where[key]] if where[key] is not None else []))
    return None
