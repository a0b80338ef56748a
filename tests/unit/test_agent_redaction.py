"""An agent's words are redacted like a customer's before they are stored, audited or sent."""

import asyncio

from sqlalchemy import select

from assistant.audit import AuditLog
from assistant.bus import conversation_topic
from assistant.core.events import UserTurn
from assistant.core.pipeline import complete
from assistant.handoff.service import HandoffService
from assistant.storage.models import AuditRecord
from tests.unit.test_handoff import world  # noqa: F401  (the fixture)


def test_agent_message_is_stored_audited_and_sent_redacted(world):  # noqa: F811
    audit = AuditLog(world.conv._sessions, key=b"k" * 32)
    handoff = HandoffService(tickets=world.tickets, conversations=world.conv, bus=world.bus, audit=audit)
    cid = asyncio.run(complete(world.pipeline, UserTurn("a human please", "web"))).conversation_id
    agent = world.agents.add("dana", "plum-kettle-orbit", display_name="Dana")
    said = "I see card 4111.1111.1111.1111 and pin 4821 on file, IBAN GB82WEST12345698765432."

    async def flow():
        async with world.bus.subscribe(conversation_topic(cid)) as q:
            ticket = world.tickets.open_for(cid)
            await handoff.claim(ticket.id, agent)
            await handoff.agent_message(ticket.id, agent, said)
            return [q.get_nowait(), q.get_nowait()][1]

    sent = asyncio.run(flow())
    masked = "I see card [CARD] and pin [PIN] on file, IBAN [IBAN]."
    assert sent["text"] == masked
    assert world.conv.get(cid).messages[-1].text == masked
    with world.conv._sessions() as s:
        payloads = [r.payload for r in s.scalars(select(AuditRecord).where(AuditRecord.conversation_id == cid))]
    message = next(p for p in payloads if p.get("action") == "message")
    assert message["text"] == masked and message["pii_masked"] == {"CARD": 1, "PIN": 1, "IBAN": 1}
