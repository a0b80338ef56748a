"""Handoff tickets and the conversation state they drive. Claims are atomic across processes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from assistant.storage.models import Agent, Conversation, Ticket, utcnow
from assistant.storage.repository import AuditEntry

OPEN = ("queued", "claimed")


class TicketNotFound(LookupError):
    pass


class TicketConflict(RuntimeError):
    """Claimed by someone else, already closed, or not this agent's ticket."""


@dataclass(frozen=True, slots=True)
class TicketView:
    id: int
    conversation_id: str
    status: str
    reason: str
    channel: str
    summary: str
    sentiment: str | None
    intents: list
    branch_id: str | None
    created_at: datetime
    claimed_by: int | None
    claimed_by_name: str | None
    claimed_at: datetime | None
    closed_at: datetime | None
    resolution: str | None


def _view(t: Ticket, agent_name: str | None = None) -> TicketView:
    return TicketView(
        id=t.id, conversation_id=t.conversation_id, status=t.status, reason=t.reason, channel=t.channel,
        summary=t.summary, sentiment=t.sentiment, intents=t.intents or [], branch_id=t.branch_id,
        created_at=t.created_at, claimed_by=t.claimed_by, claimed_by_name=agent_name, claimed_at=t.claimed_at,
        closed_at=t.closed_at, resolution=t.resolution,
    )


def _audit(s: Session, audit: AuditEntry | None, ticket_id: int, conversation_id: str) -> None:
    """The action's audit record, in the action's transaction: both commit, or neither."""
    if audit is not None:
        audit.log.append_in(s.connection(), audit.kind, {**audit.payload, "ticket_id": ticket_id}, conversation_id)


class TicketRepository:
    """Each change of state takes an optional `audit` entry, written in the same transaction
    (its payload gets the ticket's id)."""

    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def _get(self, s, ticket_id: int) -> TicketView:
        t = s.get(Ticket, ticket_id)
        if t is None:
            raise TicketNotFound(ticket_id)
        name = s.get(Agent, t.claimed_by).display_name if t.claimed_by else None
        return _view(t, name)

    def get(self, ticket_id: int) -> TicketView:
        with self._sessions() as s:
            return self._get(s, ticket_id)

    def open_for(self, conversation_id: str) -> TicketView | None:
        with self._sessions() as s:
            t = s.scalars(
                select(Ticket).where(Ticket.conversation_id == conversation_id, Ticket.status.in_(OPEN))
                .order_by(Ticket.id.desc()).limit(1)
            ).first()
            return self._get(s, t.id) if t else None

    def create(self, conversation_id: str, *, reason: str, channel: str, summary: str, sentiment: str | None,
               intents: list, branch_id: str | None = None, audit: AuditEntry | None = None) -> TicketView:
        with self._sessions.begin() as s:
            t = Ticket(conversation_id=conversation_id, reason=reason[:200], channel=channel, summary=summary,
                       sentiment=sentiment, intents=intents, branch_id=branch_id)
            s.add(t)
            s.execute(update(Conversation).where(Conversation.id == conversation_id).values(
                status="waiting", handed_off_at=func.coalesce(Conversation.handed_off_at, utcnow())))
            s.flush()
            _audit(s, audit, t.id, conversation_id)
            return _view(t)

    def position(self, ticket: TicketView) -> int:
        with self._sessions() as s:
            ahead = s.scalar(select(func.count()).select_from(Ticket).where(
                Ticket.status == "queued", Ticket.id < ticket.id))
            return int(ahead or 0) + 1

    def list(self, statuses: tuple[str, ...] = OPEN, limit: int = 200) -> list[TicketView]:
        """At most `limit` tickets: claimed ones first, then those from authenticated devices (lobby
        robots: branch_id set), then anonymous ones; each group oldest first. So a flood of anonymous
        tickets never pushes a claimed, a robot or an older ticket out of the agents' view."""
        group = case((Ticket.status == "claimed", 0), (Ticket.branch_id.is_not(None), 1), else_=2)
        with self._sessions() as s:
            rows = s.scalars(select(Ticket).where(Ticket.status.in_(statuses)).order_by(group, Ticket.id)
                             .limit(limit)).all()
            names = {a.id: a.display_name for a in s.scalars(select(Agent)).all()}
            return [_view(t, names.get(t.claimed_by)) for t in rows]

    def claim(self, ticket_id: int, agent_id: int, *, audit: AuditEntry | None = None) -> TicketView:
        """Exactly one concurrent claim wins: the UPDATE only matches a queued ticket."""
        with self._sessions.begin() as s:
            won = s.execute(
                update(Ticket).where(Ticket.id == ticket_id, Ticket.status == "queued")
                .values(status="claimed", claimed_by=agent_id, claimed_at=utcnow())
            ).rowcount
            if not won:
                current = s.get(Ticket, ticket_id)
                if current is None:
                    raise TicketNotFound(ticket_id)
                if current.status == "claimed" and current.claimed_by == agent_id:
                    return self._get(s, ticket_id)  # re-claim after a reconnect is harmless
                raise TicketConflict(f"ticket {ticket_id} is {current.status}")
            t = s.get(Ticket, ticket_id)
            s.execute(update(Conversation).where(Conversation.id == t.conversation_id).values(status="agent"))
            _audit(s, audit, ticket_id, t.conversation_id)
            return self._get(s, ticket_id)

    def close(self, ticket_id: int, agent_id: int, resolution: str, *, admin: bool = False,
              audit: AuditEntry | None = None) -> TicketView:
        """Close (resolution code) or hand back to the bot (resolution 'handed_back')."""
        with self._sessions.begin() as s:
            t = s.get(Ticket, ticket_id)
            if t is None:
                raise TicketNotFound(ticket_id)
            if t.status not in OPEN:
                raise TicketConflict(f"ticket {ticket_id} is {t.status}")
            if t.status == "claimed" and t.claimed_by != agent_id and not admin:
                raise TicketConflict(f"ticket {ticket_id} is held by another agent")
            t.status, t.resolution, t.closed_at = "closed", resolution, utcnow()
            t.claimed_by = t.claimed_by or agent_id
            s.execute(update(Conversation).where(Conversation.id == t.conversation_id).values(status="bot"))
            s.flush()
            _audit(s, audit, ticket_id, t.conversation_id)
            return self._get(s, ticket_id)

    def cancel(self, conversation_id: str, *, audit: AuditEntry | None = None) -> TicketView | None:
        """The customer stops waiting: a queued ticket is cancelled and the bot takes over again."""
        with self._sessions.begin() as s:
            t = s.scalars(select(Ticket).where(
                Ticket.conversation_id == conversation_id, Ticket.status == "queued")).first()
            if t is None:
                return None
            t.status, t.resolution, t.closed_at = "cancelled", "customer_cancelled", utcnow()
            s.execute(update(Conversation).where(Conversation.id == conversation_id).values(status="bot"))
            s.flush()
            _audit(s, audit, t.id, conversation_id)
            return _view(t)
