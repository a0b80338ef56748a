"""Look up every acknowledged record of a chaos soak's Ledger in the database (bench/chaos_soak.py).

Lost means: acknowledged to a client, and not in PostgreSQL as acknowledged. A conversation
whose `session` frame or first reply came back; a user message (count per conversation and
text: a resent message may be stored more often, never less); each reply by its message id,
conversation, role and text (a relayed customer message by the user message's id); a ticket
by id (or, for a hand-off made by a turn, one ticket of that conversation); a claim by the
agent it names; an agent message by id, conversation and text; a close by its resolution.
"""

from __future__ import annotations

from collections import Counter

from chaos_clients import Ledger
from sqlalchemy import bindparam, create_engine, text


def _rows(conn, sql: str, ids: list) -> list:
    if not ids:
        return []
    return conn.execute(text(sql).bindparams(bindparam("ids", expanding=True)), {"ids": ids}).all()


def _messages(conn, led: Ledger) -> dict[str, list]:
    lost: dict[str, list] = {}
    found = {r.id: r for r in _rows(conn, "SELECT id, conversation_id, role, text FROM messages WHERE id IN :ids",
                                     sorted({m for _, m, _, _ in led.replies} | {m for m, _, _ in led.agent_msgs}))}
    lost["replies"] = [(cid, mid) for cid, mid, role, body in led.replies
                       if mid not in found or (found[mid].conversation_id, found[mid].role, found[mid].text) != (cid, role, body)]
    lost["agent_messages"] = [(cid, mid) for mid, cid, body in led.agent_msgs
                              if mid not in found or (found[mid].conversation_id, found[mid].role, found[mid].text)
                              != (cid, "agent", body)]
    cids = sorted({c for c, _ in led.user_msgs})
    stored = Counter({(r.conversation_id, r.text): r.n for r in _rows(
        conn, "SELECT conversation_id, text, count(*) AS n FROM messages WHERE role = 'user' AND conversation_id IN :ids "
        "GROUP BY conversation_id, text", cids)})
    acked = Counter(led.user_msgs)
    lost["user_messages"] = [(c, t, n - stored[(c, t)]) for (c, t), n in acked.items() if stored[(c, t)] < n]
    return lost


def _tickets(conn, led: Ledger) -> dict[str, list]:
    lost: dict[str, list] = {}
    ids = sorted({t for t, _ in led.tickets if t is not None} | {t for t, _ in led.claims} | {t for t, _ in led.closes})
    by_id = {r.id: r for r in _rows(conn, "SELECT id, conversation_id, status, claimed_by, resolution FROM tickets "
                                          "WHERE id IN :ids", ids)}
    with_ticket = {r.conversation_id for r in _rows(conn, "SELECT conversation_id FROM tickets WHERE conversation_id IN :ids",
                                                    sorted({c for t, c in led.tickets if t is None}))}
    lost["tickets"] = [(t, c) for t, c in led.tickets
                       if (t is None and c not in with_ticket) or (t is not None and (t not in by_id or by_id[t].conversation_id != c))]
    lost["claims"] = [(t, a) for t, a in led.claims if t not in by_id or by_id[t].claimed_by != a]
    lost["closes"] = [(t, res) for t, res in led.closes
                      if t not in by_id or (by_id[t].status, by_id[t].resolution) != ("closed", res)]
    return lost


def verify(database_url: str, led: Ledger) -> dict:
    """{'acknowledged': counts, 'lost': counts, 'lost_examples': up to 5 of each kind}."""
    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = {r.id for r in _rows(conn, "SELECT id FROM conversations WHERE id IN :ids", sorted(led.conversations))}
            lost = {"conversations": sorted(led.conversations - found), **_messages(conn, led), **_tickets(conn, led)}
    finally:
        engine.dispose()
    acked = {"conversations": len(led.conversations), "user_messages": len(led.user_msgs), "replies": len(led.replies),
             "tickets": len(led.tickets), "claims": len(led.claims), "agent_messages": len(led.agent_msgs),
             "closes": len(led.closes)}
    return {"acknowledged": acked, "lost": {k: len(v) for k, v in lost.items()},
            "lost_total": sum(len(v) for v in lost.values()),
            "lost_examples": {k: [list(map(str, x)) for x in v[:5]] for k, v in lost.items() if v}}
