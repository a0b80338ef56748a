"""Chat over REST and over a websocket that streams token deltas then the final reply."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from assistant.api.deps import ServicesDep
from assistant.api.schemas import ChatRequest, ChatResponse, ErrorOut
from assistant.api.sockets import CustomerSocket
from assistant.core.events import UserTurn
from assistant.core.pipeline import complete

router = APIRouter(prefix="/v1", tags=["chat"])


@router.post("/chat", response_model=ChatResponse, responses={404: {"model": ErrorOut}, 503: {"model": ErrorOut}})
async def chat(body: ChatRequest, services: ServicesDep) -> ChatResponse:
    reply = await complete(services.pipeline, UserTurn(body.message, body.channel, body.conversation_id))
    return ChatResponse.from_reply(reply)


@router.websocket("/chat/ws")
async def chat_ws(ws: WebSocket) -> None:
    """Frames are documented in docs/ARCHITECTURE.md (streaming contract)."""
    await ws.accept()
    if ws.app.state.services is None:
        await ws.close(code=1013, reason="assistant is still loading")
        return
    await CustomerSocket(ws, ws.app.state.services).serve()
