"""Tickets and the live relay between a customer and an agent.

The database is the source of truth (a claim is an atomic UPDATE); the bus only carries
notifications, so a socket that drops and reconnects loses nothing: it re-reads the ticket.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from assistant.auth.roles import Role
from assistant.bus import AGENTS_TOPIC, EventBus, conversation_topic
from assistant.i18n import t
from assistant.privacy import redact
from assistant.storage.agents import AgentView
from assistant.storage.repository import AuditEntry, ConversationRepository, StoredMessage
from assistant.storage.tickets import TicketRepository, TicketView
from assistant.throttle import check_new_ticket


@dataclass(frozen=True, slots=True)
class HandoffStarted:
    ticket_id: int
    reason: str
    position: int
    expected_wait_minutes: int


def summarize(messages: list[StoredMessage], reason: str) -> str:
    """A short, redacted summary for the agent: what the customer asked and why we escalated."""
    asks = [m.text for m in messages if m.role == "user"][-3:]
    intents = [m.intent for m in messages if m.role == "user" and m.intent]
    parts = [f"Escalated: {reason}."]
    if intents:
        parts.append("Topics: " + ", ".join(dict.fromkeys(i.replace("_", " ") for i in intents)) + ".")
    if asks:
        parts.append("Customer said: " + " / ".join(a[:160] for a in asks))
    return " ".join(parts)[:1000]


class HandoffService:
    def __init__(self, *, tickets: TicketRepository, conversations: ConversationRepository, bus: EventBus,
                 expected_handle_minutes: float = 4.0, audit=None) -> None:
        self.tickets, self.conversations, self.bus = tickets, conversations, bus
        self._handle_minutes = expected_handle_minutes
        self._audit = audit

    def _entry(self, kind: str, **payload) -> AuditEntry | None:
        """The audit record of an action, written in the action's own transaction."""
        return AuditEntry(self._audit, kind, payload) if self._audit is not None else None

    def expected_wait_minutes(self, position: int) -> int:
        return max(1, round(position * self._handle_minutes))

    async def request(self, conversation_id: str, *, reason: str, channel: str, sentiment: str | None = None,
                      branch_id: str | None = None, context: str | None = None) -> HandoffStarted:
        """`context`: what a self-service flow had collected or done, shown to the agent with the summary."""
        existing = await asyncio.to_thread(self.tickets.open_for, conversation_id)
        if existing is not None:
            pos = await asyncio.to_thread(self.tickets.position, existing)
            return HandoffStarted(existing.id, existing.reason, pos, self.expected_wait_minutes(pos))
        await check_new_ticket()  # per-client quota (assistant/throttle.py): raises Limited
        history = await asyncio.to_thread(self.conversations.recent, conversation_id, 20)
        intents = [m.intent for m in history if m.role == "user" and m.intent]
        ticket = await asyncio.to_thread(
            self.tickets.create, conversation_id, reason=reason, channel=channel,
            summary=summarize(history, reason) + (f"\n{context}" if context else ""), sentiment=sentiment, intents=intents, branch_id=branch_id,
            audit=self._entry("handoff", event="ticket_created", reason=reason, channel=channel, branch_id=branch_id),
        )
        pos = await asyncio.to_thread(self.tickets.position, ticket)
        await self.bus.publish(AGENTS_TOPIC, {"type": "ticket_created", "ticket_id": ticket.id})
        return HandoffStarted(ticket.id, reason, pos, self.expected_wait_minutes(pos))

    async def customer_message(self, conversation_id: str, text: str, message_id: int) -> TicketView | None:
        ticket = await asyncio.to_thread(self.tickets.open_for, conversation_id)
        if ticket is not None:
            await self.bus.publish(AGENTS_TOPIC, {
                "type": "customer_message", "ticket_id": ticket.id, "conversation_id": conversation_id,
                "message_id": message_id, "text": text,
            })
        return ticket

    async def _system(self, conversation_id: str, text: str, event: dict) -> None:
        mid = await asyncio.to_thread(self.conversations.add, conversation_id, role="system", text=text, channel="agent")
        await self.bus.publish(conversation_topic(conversation_id), {**event, "text": text, "message_id": mid})

    async def claim(self, ticket_id: int, agent: AgentView) -> TicketView:
        ticket = await asyncio.to_thread(self.tickets.claim, ticket_id, agent.id,
                                         audit=self._entry("agent_action", action="claim", agent=agent.username))
        await self._system(ticket.conversation_id, t("handoff.agent_joined", name=agent.display_name),
                           {"type": "agent_joined", "agent": agent.display_name})
        await self.bus.publish(AGENTS_TOPIC, {"type": "ticket_claimed", "ticket_id": ticket.id, "agent": agent.display_name})
        return ticket

    async def agent_message(self, ticket_id: int, agent: AgentView, text: str) -> int:
        ticket = await asyncio.to_thread(self.tickets.get, ticket_id)
        if ticket.status != "claimed" or ticket.claimed_by != agent.id:
            from assistant.storage.tickets import TicketConflict

            raise TicketConflict(f"ticket {ticket_id} is not claimed by you")
        # An agent's words are redacted like a customer's: "I see card 4111 ..." is stored, audited and sent masked.
        red = redact(text)
        text = red.text
        audit = self._entry("agent_action", action="message", ticket_id=ticket_id, agent=agent.username, text=text,
                            pii_masked=red.found)
        mid = await asyncio.to_thread(self.conversations.add, ticket.conversation_id, role="agent", text=text,
                                      channel="agent", pii=red.found or None, audit=audit)
        await self.bus.publish(conversation_topic(ticket.conversation_id), {
            "type": "agent_message", "agent": agent.display_name, "text": text, "message_id": mid,
        })
        return mid

    async def close(self, ticket_id: int, agent: AgentView, resolution: str) -> TicketView:
        ticket = await asyncio.to_thread(
            self.tickets.close, ticket_id, agent.id, resolution, admin=agent.may(Role.SUPERVISOR),
            audit=self._entry("agent_action", action="close", agent=agent.username, resolution=resolution))
        note = t("handoff.handed_back") if resolution == "handed_back" else t("handoff.closed")
        await self._system(ticket.conversation_id, note, {"type": "handoff_ended", "resolution": resolution})
        await self.bus.publish(AGENTS_TOPIC, {"type": "ticket_closed", "ticket_id": ticket.id})
        return ticket

    async def cancel(self, conversation_id: str) -> TicketView | None:
        ticket = await asyncio.to_thread(self.tickets.cancel, conversation_id,
                                         audit=self._entry("handoff", event="customer_cancelled"))
        if ticket is not None:
            await self._system(conversation_id, t("handoff.left_queue"),
                               {"type": "handoff_ended", "resolution": "customer_cancelled"})
            await self.bus.publish(AGENTS_TOPIC, {"type": "ticket_cancelled", "ticket_id": ticket.id})
        return ticket
