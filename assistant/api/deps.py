"""Dependency aliases so routes stay thin."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from assistant.config import Settings
from assistant.services import Services


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
