"""Chat over REST and over a websocket that streams token deltas then the final reply."""

from __future__ import annotations

import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from assistant.api.deps import ServicesDep
from assistant.api.schemas import ChatRequest, ChatResponse, ErrorOut
from assistant.core.events import Reply, ReplyDelta, TurnError, TurnStarted, UserTurn
from assistant.core.pipeline import UnknownConversation, complete

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["chat"])


@router.post("/chat", response_model=ChatResponse, responses={404: {"model": ErrorOut}, 503: {"model": ErrorOut}})
async def chat(body: ChatRequest, services: ServicesDep) -> ChatResponse:
    reply = await complete(services.pipeline, UserTurn(body.message, body.channel, body.conversation_id))
    return ChatResponse.from_reply(reply)


def _frame(event) -> dict:
    if isinstance(event, TurnStarted):
        return {"type": "start", "conversation_id": event.conversation_id}
    if isinstance(event, ReplyDelta):
        return {"type": "delta", "text": event.text}
    if isinstance(event, TurnError):
        return {"type": "notice", "stage": event.stage}
    assert isinstance(event, Reply)
    return {"type": "reply", **ChatResponse.from_reply(event).model_dump(mode="json")}


@router.websocket("/chat/ws")
async def chat_ws(ws: WebSocket) -> None:
    """Client sends {"message", "conversation_id"?, "channel"?} text frames; see docs/ARCHITECTURE.md."""
    await ws.accept()
    services = ws.app.state.services
    if services is None:
        await ws.close(code=1013, reason="assistant is still loading")
        return
    connected = True

    async def send(frame: dict) -> None:
        nonlocal connected
        if connected:
            try:
                await ws.send_json(frame)
            except (WebSocketDisconnect, RuntimeError):
                connected = False  # finish the turn anyway so the reply is stored for resume

    while connected:
        try:
            msg = await ws.receive()
        except WebSocketDisconnect:
            return
        if msg["type"] == "websocket.disconnect":
            return
        if msg.get("text") is None:
            await send({"type": "error", "status": 415, "detail": "send JSON text frames"})
            continue
        try:
            body = ChatRequest.model_validate_json(msg["text"])
        except ValidationError as exc:
            await send({"type": "error", "status": 422, "detail": exc.errors(include_url=False, include_input=False)})
            continue
        turn = UserTurn(body.message, body.channel if body.channel != "api" else "web", body.conversation_id)
        try:
            async for event in services.pipeline.run(turn):
                await send(_frame(event))
        except UnknownConversation:
            await send({"type": "error", "status": 404, "detail": "unknown conversation_id"})
