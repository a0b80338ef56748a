"""Dependency aliases so routes stay thin."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request

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


def get_agent(request: Request, services: ServicesDep) -> AgentView:
    """Bearer token of a logged-in agent (see POST /v1/agent/login)."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    agent = services.agents.resolve(token) if token else None
    if agent is None:
        raise HTTPException(status_code=401, detail="agent login required", headers={"WWW-Authenticate": "Bearer"})
    return agent


AgentDep = Annotated[AgentView, Depends(get_agent)]


# Database ids fit a signed 32-bit integer on every backend; larger is a 422, not a driver error.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
