"""Chat over REST and over a websocket that streams token deltas then the final reply."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, WebSocket

from assistant.api.deps import ServicesDep, bearer, check_session
from assistant.api.schemas import CUSTOMER_ERRORS, ChatRequest, ChatResponse, ErrorOut
from assistant.api.sockets import CustomerSocket
from assistant.core.events import UserTurn
from assistant.core.pipeline import complete
from assistant.throttle import check_new_conversation

router = APIRouter(prefix="/v1", tags=["chat"])


@router.post("/chat", response_model=ChatResponse, responses={**CUSTOMER_ERRORS, 429: {"model": ErrorOut},
                                                              503: {"model": ErrorOut}})
async def chat(body: ChatRequest, services: ServicesDep, request: Request) -> ChatResponse:
    """Without conversation_id: a new conversation, and its session token in the reply (once)."""
    cid, token = body.conversation_id, None
    if cid is None:
        await check_new_conversation()  # 429 past the per-client quota (Limited, handled in app.py)
        cid, token = await services.conversations.start_session_async(body.channel)
    else:
        await asyncio.to_thread(check_session, services, cid, bearer(request))
    reply = await complete(services.pipeline, UserTurn(body.message, body.channel, cid))
    return ChatResponse.from_reply(reply, token)


@router.websocket("/chat/ws")
async def chat_ws(ws: WebSocket) -> None:
    """Frames are documented in docs/ARCHITECTURE.md (streaming contract)."""
    await ws.accept()
    if ws.app.state.services is None:
        await ws.close(code=1013, reason="assistant is still loading")
        return
    await CustomerSocket(ws, ws.app.state.services).serve()
