"""Lobby robots: `WS /v1/robot`, protocol v1 (docs/robot-protocol.md)."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from assistant.channels.robot import RobotSession
from assistant.channels.robot_protocol import DisplayMap

router = APIRouter(prefix="/v1", tags=["robot"])


@router.websocket("/robot")
async def robot(ws: WebSocket) -> None:
    await ws.accept()
    services = ws.app.state.services
    if services is None:
        await ws.close(code=1013, reason="assistant is still loading")
        return
    settings = services.settings
    await RobotSession(ws, services, DisplayMap.load(settings.robot.display), idle_timeout_s=settings.robot.idle_timeout_s).serve()
