"""The conversations behind a figure, as a supervisor reads them: every message (redacted), the hand-off
tickets and the satisfaction answer. Text is redacted when stored; it is passed through the redactor again
here, so a row written before a redaction rule existed is masked too."""

from __future__ import annotations

from sqlalchemy import Connection, select

from assistant.analytics.conversations import C, M, T
from assistant.analytics.csat import S
from assistant.privacy import redact

MAX_MESSAGES = 200  # per conversation


def _time(t) -> str | None:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t is not None else None


def transcripts(conn: Connection, ids: list[str]) -> list[dict]:
    """The conversations of `ids`, in that order (unknown ids are left out)."""
    found = {r.id: {"id": r.id, "channel": r.channel, "status": r.status, "started": _time(r.created_at),
                    "messages": [], "tickets": [], "csat": None}
             for r in conn.execute(select(C.c.id, C.c.channel, C.c.status, C.c.created_at).where(C.c.id.in_(ids)))}
    if not found:
        return []
    q = select(M.c.conversation_id, M.c.id, M.c.role, M.c.text, M.c.created_at, M.c.path, M.c.intent,
               M.c.intent_confidence, M.c.feedback, M.c.citations, M.c.route, M.c.flow) \
        .where(M.c.conversation_id.in_(list(found))).order_by(M.c.conversation_id, M.c.id)
    for m in conn.execute(q):
        messages = found[m.conversation_id]["messages"]
        if len(messages) >= MAX_MESSAGES:
            continue
        messages.append({
            "id": m.id, "role": m.role, "text": redact(m.text or "").text, "at": _time(m.created_at), "path": m.path,
            "intent": m.intent, "confidence": None if m.intent_confidence is None else round(m.intent_confidence, 3),
            "feedback": m.feedback, "route": m.route, "flow": m.flow,
            "sources": [c.get("doc_id") for c in m.citations or () if isinstance(c, dict)],
        })
    tickets = select(T.c.conversation_id, T.c.id, T.c.reason, T.c.status, T.c.resolution, T.c.created_at,
                     T.c.claimed_at, T.c.closed_at).where(T.c.conversation_id.in_(list(found))).order_by(T.c.id)
    for t in conn.execute(tickets):
        found[t.conversation_id]["tickets"].append({
            "id": t.id, "reason": t.reason, "status": t.status, "resolution": t.resolution,
            "opened": _time(t.created_at), "claimed": _time(t.claimed_at), "closed": _time(t.closed_at)})
    for r in conn.execute(select(S.c.conversation_id, S.c.score, S.c.comment).where(S.c.conversation_id.in_(list(found)))):
        found[r.conversation_id]["csat"] = {"score": r.score, "comment": redact(r.comment).text if r.comment else None}
    return [found[i] for i in dict.fromkeys(ids) if i in found]
