"""Agent console API: login, queue, claim, live chat, hand back, close.

Routes that read the database are plain `def` (FastAPI's thread pool), never a blocking call
inside `async def`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, WebSocket

from assistant.api.deps import AgentDep, RowId, ServicesDep, StaffDep, bearer
from assistant.api.schemas import (
    AgentMessageIn,
    AgentOut,
    CloseIn,
    ErrorOut,
    LoginIn,
    LoginOut,
    MessageOut,
    Responses,
    TicketDetailOut,
    TicketOut,
)
from assistant.api.sockets import AgentSocket
from assistant.api.ws_auth import first_frame_auth
from assistant.auth.roles import Role
from assistant.auth.throttle import LoginThrottle
from assistant.storage.agents import AgentView
from assistant.storage.tickets import TicketView

router = APIRouter(prefix="/v1/agent", tags=["agent console"])
ERRORS: Responses = {401: {"model": ErrorOut}, 404: {"model": ErrorOut}, 409: {"model": ErrorOut}}


def ticket_out(t: TicketView) -> TicketOut:
    created = t.created_at if t.created_at.tzinfo else t.created_at.replace(tzinfo=UTC)
    end = t.claimed_at or datetime.now(UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    return TicketOut(**{k: getattr(t, k) for k in TicketOut.model_fields if hasattr(t, k)},
                     wait_s=round((end - created).total_seconds(), 1))


def login_throttle(request: Request) -> LoginThrottle:
    """One throttle per app (its counts in Redis when BANK_REDIS__URL is set: shared by every process)."""
    state = request.app.state
    if getattr(state, "login_throttle", None) is None:
        state.login_throttle = LoginThrottle.from_settings(state.settings)
    return state.login_throttle


@router.post("/login", response_model=LoginOut, responses={401: {"model": ErrorOut}, 429: {"model": ErrorOut}})
async def login(body: LoginIn, request: Request, services: ServicesDep,
                throttle: Annotated[LoginThrottle, Depends(login_throttle)]) -> LoginOut:
    """Too many failed logins for the account or from the client's address: 429 with Retry-After."""
    ip = request.client.host if request.client else "unknown"
    locked = await throttle.attempt(body.username, ip)
    if locked is not None:
        raise HTTPException(status_code=429, detail=f"too many failed logins; try again in {locked.retry_after_s} s",
                            headers={"Retry-After": str(locked.retry_after_s)})
    agent = await asyncio.to_thread(services.agents.authenticate, body.username, body.password)  # argon2: off the loop
    if agent is None:
        await throttle.failed(ip)
        raise HTTPException(status_code=401, detail="wrong username or password")
    await throttle.succeeded(body.username)
    token = await asyncio.to_thread(services.agents.issue_token, agent.id,
                                    timedelta(hours=services.settings.auth.agent_token_ttl_h))
    return LoginOut(token=token, agent=AgentOut.of(agent))


@router.post("/logout", status_code=204, responses={401: {"model": ErrorOut}})
async def logout(request: Request, services: ServicesDep, staff: StaffDep) -> Response:
    """End this login on every API process; the agent's live sockets close at their next check."""
    await asyncio.to_thread(services.agents.revoke, bearer(request))
    return Response(status_code=204)


@router.get("/tickets", response_model=list[TicketOut], responses=ERRORS)
def queue(services: ServicesDep, agent: AgentDep) -> list[TicketOut]:
    return [ticket_out(t) for t in services.tickets.list()]


@router.get("/tickets/{ticket_id}", response_model=TicketDetailOut, responses={**ERRORS, 403: {"model": ErrorOut}})
def ticket(ticket_id: RowId, services: ServicesDep, agent: AgentDep) -> TicketDetailOut:
    """A queued ticket is readable by every agent (to decide to claim it); once claimed, only by the
    agent who holds or held it, and by supervisors and admins."""
    t = services.tickets.get(ticket_id)
    if t.status != "queued" and t.claimed_by != agent.id and not agent.may(Role.SUPERVISOR):
        raise HTTPException(status_code=403, detail="this ticket belongs to another agent")
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
async def agent_ws(ws: WebSocket) -> None:
    """Live queue and customer messages. First frame: {"type": "auth", "token": <POST /v1/agent/login token>}."""
    await ws.accept()
    services = ws.app.state.services
    if services is None:
        await ws.close(code=1013, reason="assistant is still loading")
        return
    def console_staff(token: str) -> AgentView | None:
        staff = services.agents.resolve(token)
        return staff if staff is not None and staff.may(Role.AGENT, Role.SUPERVISOR) else None

    signed_in = await first_frame_auth(ws, lambda token: asyncio.to_thread(console_staff, token),
                                       timeout_s=services.settings.auth.ws_auth_timeout_s, what="agent login token")
    if signed_in is not None:
        await AgentSocket(ws, services, *signed_in).serve()
