"""A small stored history with known figures, written straight into the tables (as the pipeline, the
hand-off service and the survey would have stored it), for the analytics tests.

March 2026; the 1st is a Sunday, so weeks start on March 2 and 9. Seven conversations in March 1-14 (one a
phone call in which nobody spoke) and one in the fortnight before. Expected figures are in
tests/unit/test_analytics_queries.py.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

from sqlalchemy import Engine, insert
from sqlalchemy import text as sql

from assistant.storage.analytics_tables import CsatResponse
from assistant.storage.models import Agent, Conversation, Message, Ticket

C, M, T, S, A = (Conversation.__table__, Message.__table__, Ticket.__table__, CsatResponse.__table__, Agent.__table__)
CARD = "[CARD]"


YEAR = 2026


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(YEAR, month, day, hour, minute, tzinfo=UTC)


# conversation name -> (channel, start, [(role, text, minutes after start, fields)])
HISTORY = {
    "c1": ("web", at(2, 10), [
        ("user", "what is the monthly fee", 0, {"intent": "fees", "intent_confidence": 0.9}),
        ("assistant", "The monthly fee is $10.", 0, {"path": "faq", "intent": "fees", "intent_confidence": 0.9,
                                                     "feedback": 1, "route": "knowledge",
                                                     "citations": [{"doc_id": "fees-checking", "title": "Checking fees", "section": ""}]}),
    ]),
    "c2": ("web", at(2, 11), [
        ("user", "my card is lost", 0, {"intent": "lost_or_stolen_card", "intent_confidence": 0.8}),
        ("assistant", "Call us to block it.", 0, {"path": "generated", "intent": "lost_or_stolen_card",
                                                  "intent_confidence": 0.8, "feedback": -1,
                                                  "citations": [{"doc_id": "cards-lost", "title": "Lost cards", "section": "Block"}]}),
        ("user", "talk to a person", 1, {"intent": "human_agent", "intent_confidence": 0.95}),
        ("assistant", "Connecting you.", 1, {"path": "handoff", "intent": "human_agent", "intent_confidence": 0.95}),
    ]),
    "c3": ("voice", at(3, 9), [
        ("user", "blah mortgage crypto", 0, {"intent": "crypto", "intent_confidence": 0.3}),
        ("assistant", "Did you mean...?", 0, {"path": "clarify", "intent": "crypto", "intent_confidence": 0.3}),
        ("user", "how to buy bitcoin", 1, {"intent": "crypto", "intent_confidence": 0.2}),
        ("assistant", "I don't know.", 1, {"path": "no_answer", "intent": "crypto", "intent_confidence": 0.2}),
    ]),
    "c4": ("robot", at(3, 12), [
        ("user", "transfer money", 0, {"intent": "transfer", "intent_confidence": 0.9}),
        ("assistant", "How much?", 0, {"path": "flow", "intent": "transfer", "intent_confidence": 0.9,
                                       "route": "flow_start", "flow": "transfer"}),
        ("user", "100 to savings", 1, {"intent": "transfer", "intent_confidence": 0.6}),
        ("assistant", "Send $100 to savings?", 1, {"path": "flow", "intent": "transfer", "intent_confidence": 0.6,
                                                   "route": "slot_fill", "flow": "transfer"}),
        ("user", "yes", 2, {}),
        ("assistant", "Done.", 2, {"path": "flow", "route": "confirm", "flow": "transfer", "flow_outcome": "completed"}),
    ]),
    "c5": ("web", at(9, 8), [
        ("user", "freeze my card", 0, {"intent": "freeze_card", "intent_confidence": 0.9}),
        ("assistant", "Which card?", 0, {"path": "flow", "intent": "freeze_card", "intent_confidence": 0.9,
                                         "route": "flow_start", "flow": "freeze_card"}),
    ]),
    "c6": ("web", at(9, 9), [
        ("user", "I want to complain", 0, {"intent": "complaint", "intent_confidence": 0.9}),
        ("assistant", "Connecting you.", 0, {"path": "handoff", "intent": "complaint", "intent_confidence": 0.9}),
    ]),
    "c7": ("voice", at(10, 7), []),
    "c8": ("web", at(20, 10, month=2), [
        ("user", "monthly fee?", 0, {"intent": "fees", "intent_confidence": 0.9}),
        ("assistant", "The monthly fee is $10.", 0, {"path": "faq", "intent": "fees", "intent_confidence": 0.9}),
    ]),
}


def seed(engine: Engine, *, years_back: int = 0) -> dict[str, str]:
    """Write the history (`years_back` years earlier, so several tests can share one database); returns
    conversation name -> id (and "agent" -> the agent's id as text)."""
    ids = {name: str(uuid.uuid4()) for name in HISTORY}
    shift = lambda t: t.replace(year=t.year - years_back)  # noqa: E731
    minute = 60
    with engine.begin() as c:
        agent_id = c.execute(insert(A).values(username=f"ana-{uuid.uuid4().hex[:6]}", display_name="Ana Lyst",
                                              password_hash="x", role="agent", created_at=shift(at(1, 0)))
                             .returning(A.c.id)).scalar_one()
        order = itertools.count()
        for name, (channel, start, messages) in HISTORY.items():
            start = shift(start)
            c.execute(insert(C).values(id=ids[name], channel=channel, status="bot", created_at=start, updated_at=start))
            for role, text, after, fields in messages:
                when = start.timestamp() + after * minute + next(order) % 7  # distinct times, in order
                c.execute(insert(M).values(conversation_id=ids[name], role=role, text=text, channel=channel,
                                           created_at=datetime.fromtimestamp(when, UTC), **fields))
        c.execute(insert(T).values(conversation_id=ids["c2"], status="closed", reason="explicit request for a human",
                                   channel="web", summary="", created_at=shift(at(2, 11, 2)), claimed_by=agent_id,
                                   claimed_at=shift(at(2, 11, 4)), closed_at=shift(at(2, 11, 10)), resolution="resolved"))
        c.execute(insert(T).values(conversation_id=ids["c6"], status="cancelled", reason="complaint with negative sentiment",
                                   channel="web", summary="", created_at=shift(at(9, 9, 1)), closed_at=shift(at(9, 9, 5)),
                                   resolution="customer_cancelled"))
        mine = ", ".join(f"'{ids[name]}'" for name in HISTORY)  # what the repository and the tickets keep up to date
        c.execute(sql("UPDATE conversations SET first_user_at = (SELECT min(m.created_at) FROM messages m WHERE "
                       f"m.conversation_id = conversations.id AND m.role = 'user') WHERE id IN ({mine})"))
        c.execute(sql("UPDATE conversations SET handed_off_at = (SELECT min(t.created_at) FROM tickets t WHERE "
                       f"t.conversation_id = conversations.id) WHERE id IN ({mine})"))
        c.execute(insert(S).values(conversation_id=ids["c1"], channel="web", score=5, comment=None, created_at=shift(at(2, 10, 5))))
        c.execute(insert(S).values(conversation_id=ids["c2"], channel="web", score=2, comment=f"too slow, my card {CARD}",
                                   created_at=shift(at(2, 11, 12))))
    ids["agent"] = str(agent_id)
    return ids
