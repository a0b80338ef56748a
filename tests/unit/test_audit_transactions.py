"""An action and its audit record commit together or not at all (tickets, agent messages)."""

import asyncio

import pytest
from sqlalchemy import func, select, text

from assistant.audit import AuditLog
from assistant.bus import InMemoryBus
from assistant.handoff.service import HandoffService
from assistant.storage.agents import AgentRepository
from assistant.storage.db import make_engine, migrate, session_factory
from assistant.storage.models import AuditRecord, Message
from assistant.storage.repository import ConversationRepository
from assistant.storage.tickets import TicketRepository

BLOCK_AUDIT = ("CREATE TRIGGER audit_down BEFORE INSERT ON audit_records "
               "BEGIN SELECT RAISE(ABORT, 'audit store failed'); END")


@pytest.fixture
def world(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    audit = AuditLog(sessions, key=b"q" * 40)
    audit.ensure_keyed()
    conv, tickets = ConversationRepository(sessions), TicketRepository(sessions)
    handoff = HandoffService(tickets=tickets, conversations=conv, bus=InMemoryBus(), audit=audit)
    agent = AgentRepository(sessions).add("dana", "Vq7!mZ2#pL9@xR4t-k8w", display_name="Dana")

    def audit_down(down: bool) -> None:
        with engine.begin() as c:
            c.execute(text(BLOCK_AUDIT if down else "DROP TRIGGER audit_down"))

    def count(model, **where) -> int:
        with sessions() as s:
            q = select(func.count()).select_from(model)
            for k, v in where.items():
                q = q.where(getattr(model, k) == v)
            return s.scalar(q)

    w = type("W", (), dict(conv=conv, tickets=tickets, handoff=handoff, agent=agent, audit=audit))
    w.audit_down, w.count = staticmethod(audit_down), staticmethod(count)
    return w


def test_a_failed_audit_write_undoes_the_ticket_action(world):
    cid = world.conv.create("web")
    world.audit_down(True)
    with pytest.raises(Exception, match="audit store failed"):
        asyncio.run(world.handoff.request(cid, reason="explicit request for a human", channel="web"))
    assert world.tickets.open_for(cid) is None and world.conv.status(cid) == "bot"

    world.audit_down(False)
    ticket_id = asyncio.run(world.handoff.request(cid, reason="explicit request for a human", channel="web")).ticket_id
    assert world.count(AuditRecord, kind="handoff") == 1

    world.audit_down(True)
    with pytest.raises(Exception, match="audit store failed"):
        asyncio.run(world.handoff.claim(ticket_id, world.agent))
    assert world.tickets.get(ticket_id).status == "queued" and world.conv.status(cid) == "waiting"

    world.audit_down(False)
    asyncio.run(world.handoff.claim(ticket_id, world.agent))
    world.audit_down(True)
    with pytest.raises(Exception, match="audit store failed"):
        asyncio.run(world.handoff.agent_message(ticket_id, world.agent, "Hello, I'm Dana."))
    assert world.count(Message, role="agent") == 0
    with pytest.raises(Exception, match="audit store failed"):
        asyncio.run(world.handoff.close(ticket_id, world.agent, "resolved"))
    assert world.tickets.get(ticket_id).status == "claimed" and world.conv.status(cid) == "agent"

    world.audit_down(False)
    asyncio.run(world.handoff.agent_message(ticket_id, world.agent, "Hello, I'm Dana."))
    asyncio.run(world.handoff.close(ticket_id, world.agent, "resolved"))
    assert world.count(Message, role="agent") == 1
    actions = [(r.payload.get("action"), r.payload.get("ticket_id")) for r in _records(world, "agent_action")]
    assert actions == [("claim", ticket_id), ("message", ticket_id), ("close", ticket_id)]
    assert world.audit.verify().ok


def test_a_failed_audit_write_undoes_a_cancel(world):
    cid = world.conv.create("web")
    ticket_id = asyncio.run(world.handoff.request(cid, reason="explicit request for a human", channel="web")).ticket_id
    world.audit_down(True)
    with pytest.raises(Exception, match="audit store failed"):
        asyncio.run(world.handoff.cancel(cid))
    assert world.tickets.get(ticket_id).status == "queued"
    world.audit_down(False)
    assert asyncio.run(world.handoff.cancel(cid)).status == "cancelled"
    assert [r.payload["event"] for r in _records(world, "handoff")] == ["ticket_created", "customer_cancelled"]


def _records(world, kind):
    with world.tickets._sessions() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.kind == kind).order_by(AuditRecord.id)))
