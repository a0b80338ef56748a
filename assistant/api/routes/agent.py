"""Agent console API: login, queue, claim, live chat, hand back, close.

Routes that read the database are plain `def` (FastAPI's thread pool), never a blocking call
inside `async def`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, WebSocket

from assistant.api.deps import AgentDep, RowId, ServicesDep
from assistant.api.schemas import (
    AgentMessageIn,
    AgentOut,
    CloseIn,
    ErrorOut,
    LoginIn,
    LoginOut,
    MessageOut,
    TicketDetailOut,
    TicketOut,
)
from assistant.api.sockets import AgentSocket
from assistant.storage.tickets import TicketView

router = APIRouter(prefix="/v1/agent", tags=["agent console"])
ERRORS = {401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}}


def ticket_out(t: TicketView) -> TicketOut:
    created = t.created_at if t.created_at.tzinfo else t.created_at.replace(tzinfo=UTC)
    end = t.claimed_at or datetime.now(UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    return TicketOut(**{k: getattr(t, k) for k in TicketOut.model_fields if hasattr(t, k)},
                     wait_s=round((end - created).total_seconds(), 1))


@router.post("/login", response_model=LoginOut, responses={401: {"model": ErrorOut}})
async def login(body: LoginIn, services: ServicesDep) -> LoginOut:
    agent = services.agents.authenticate(body.username, body.password)
    if agent is None:
        raise HTTPException(status_code=401, detail="wrong username or password")
    return LoginOut(token=services.agents.issue_token(agent.id), agent=AgentOut(**asdict(agent)))


@router.get("/tickets", response_model=list[TicketOut], responses=ERRORS)
def queue(services: ServicesDep, agent: AgentDep) -> list[TicketOut]:
    return [ticket_out(t) for t in services.tickets.list()]


@router.get("/tickets/{ticket_id}", response_model=TicketDetailOut, responses=ERRORS)
def ticket(ticket_id: RowId, services: ServicesDep, agent: AgentDep) -> TicketDetailOut:
    t = services.tickets.get(ticket_id)
    view = services.conversations.get(t.conversation_id)
    messages = [MessageOut.model_validate(m, from_attributes=True) for m in view.messages] if view else []
    return TicketDetailOut(**ticket_out(t).model_dump(), messages=messages)


@router.post("/tickets/{ticket_id}/claim", response_model=TicketOut, responses=ERRORS)
async def claim(ticket_id: RowId, services: ServicesDep, agent: AgentDep) -> TicketOut:
    return ticket_out(await services.handoff.claim(ticket_id, agent))


@router.post("/tickets/{ticket_id}/messages", responses=ERRORS)
async def send(ticket_id: RowId, body: AgentMessageIn, services: ServicesDep, agent: AgentDep) -> dict:
    return {"message_id": await services.handoff.agent_message(ticket_id, agent, body.text)}


@router.post("/tickets/{ticket_id}/close", response_model=TicketOut, responses=ERRORS)
async def close(ticket_id: RowId, body: CloseIn, services: ServicesDep, agent: AgentDep) -> TicketOut:
    return ticket_out(await services.handoff.close(ticket_id, agent, body.resolution))


@router.post("/tickets/{ticket_id}/handback", response_model=TicketOut, responses=ERRORS)
async def hand_back(ticket_id: RowId, services: ServicesDep, agent: AgentDep) -> TicketOut:
    return ticket_out(await services.handoff.close(ticket_id, agent, "handed_back"))


@router.get("/canned", response_model=list[str], responses=ERRORS)
def canned(services: ServicesDep, agent: AgentDep) -> list[str]:
    return services.canned_replies


@router.websocket("/ws")
async def agent_ws(ws: WebSocket, token: str = "") -> None:
    """Live queue and customer messages; `?token=` from POST /v1/agent/login."""
    await ws.accept()
    services = ws.app.state.services
    agent = services.agents.resolve(token) if services is not None and token else None
    if agent is None:
        await ws.close(code=4401, reason="agent login required")
        return
    await AgentSocket(ws, services, agent).serve()
