"""Dependency aliases so routes stay thin."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request

from assistant.auth.roles import Role
from assistant.config import Settings
from assistant.services import Services
from assistant.storage.agents import AgentView


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_services(request: Request) -> Services:
    services = request.app.state.services
    if services is None:
        error = request.app.state.startup_error
        detail = f"assistant failed to start: {error}" if error else "assistant is still loading its models"
        raise HTTPException(status_code=503, detail=detail)
    return services


SettingsDep = Annotated[Settings, Depends(get_settings)]
ServicesDep = Annotated[Services, Depends(get_services)]


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def get_staff(request: Request, services: ServicesDep) -> AgentView:
    """Bearer token of a logged-in staff account (see POST /v1/agent/login)."""
    token = bearer(request)
    staff = services.agents.resolve(token) if token else None
    if staff is None:
        raise HTTPException(status_code=401, detail="staff login required", headers={"WWW-Authenticate": "Bearer"})
    return staff


StaffDep = Annotated[AgentView, Depends(get_staff)]


def require_roles(*accepted: Role) -> Callable[..., AgentView]:
    """A dependency: the logged-in staff account, 403 unless it holds one of ``accepted`` (admin holds all).
    Example: ``Supervisor = Annotated[AgentView, Depends(require_roles(Role.SUPERVISOR))]``."""
    names = " or ".join(r.value for r in accepted)

    def dependency(staff: Annotated[AgentView, Depends(get_staff)]) -> AgentView:
        if not staff.may(*accepted):
            raise HTTPException(status_code=403, detail=f"this needs the {names} role")
        return staff

    return dependency


# The agent console: agents and supervisors.
AgentDep = Annotated[AgentView, Depends(require_roles(Role.AGENT, Role.SUPERVISOR))]


# Database ids fit a signed 32-bit integer on every backend; larger is a 422, not a driver error.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def check_session(services: Services, cid: str, token: str | None) -> datetime:
    """The customer role: a conversation is read or continued only with its live session token
    (BANK_AUTH__CUSTOMER_SESSION_TTL_H from its issue). Returns when the token expires."""
    if not token:
        raise HTTPException(status_code=401, detail="session token required (Authorization: Bearer <session_token>)",
                            headers={"WWW-Authenticate": "Bearer"})
    ttl = timedelta(hours=services.settings.auth.customer_session_ttl_h)
    check = services.conversations.session_check(cid, token, ttl)
    if check.status == "mismatch":
        raise HTTPException(status_code=403, detail="session token does not match this conversation")
    if check.status == "expired":
        raise HTTPException(status_code=401, detail="session token expired; start a new conversation",
                            headers={"WWW-Authenticate": "Bearer"})
    if check.status == "unknown" or check.expires_at is None:
        raise HTTPException(status_code=404, detail="unknown conversation_id")
    return check.expires_at


async def customer_conversation(request: Request, services: ServicesDep,
                                conversation_id: str = Path(max_length=64)) -> str:
    await asyncio.to_thread(check_session, services, conversation_id, bearer(request))
    return conversation_id


# A path conversation_id the caller holds the session token of (401 / 403 / 404 otherwise).
CustomerConversation = Annotated[str, Depends(customer_conversation)]


def verified_customer(services: Services, assertion: str, cid: str) -> str:
    """The customer a signed identity assertion proves for this conversation (401 when it does not hold).
    Blocking (signature check, replay store): call it off the event loop."""
    from assistant.banking.identity import AssertionRejected

    if services.identity is None:
        raise HTTPException(status_code=400, detail="self-service is off: identity assertions are not accepted")
    try:
        return services.identity.verify(assertion, cid).customer_id
    except AssertionRejected as exc:
        raise HTTPException(status_code=401, detail="identity assertion not accepted (forged, expired, replayed, "
                            "or made for another conversation)") from exc
