"""Chat over REST and over a websocket that streams token deltas then the final reply."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, WebSocket

from assistant.api.deps import ServicesDep, bearer, check_session, verified_customer
from assistant.api.schemas import CUSTOMER_ERRORS, ChatRequest, ChatResponse, ErrorOut, SessionIn, SessionOut
from assistant.api.sockets import CustomerSocket
from assistant.core.events import UserTurn
from assistant.core.pipeline import complete
from assistant.throttle import check_new_conversation

router = APIRouter(prefix="/v1", tags=["chat"])


@router.post("/chat", response_model=ChatResponse, responses={**CUSTOMER_ERRORS, 400: {"model": ErrorOut},
                                                              429: {"model": ErrorOut}, 503: {"model": ErrorOut}})
async def chat(body: ChatRequest, services: ServicesDep, request: Request) -> ChatResponse:
    """Without conversation_id: a new conversation, and its session token in the reply (once)."""
    cid, token = body.conversation_id, None
    if cid is None:
        if body.identity:
            raise HTTPException(status_code=400, detail="an identity assertion is made for a conversation: start one "
                                "first (POST /v1/conversations) and have the bank sign its id")
        await check_new_conversation()  # 429 past the per-client quota (Limited, handled in app.py)
        cid, token = await services.conversations.start_session_async(body.channel)
    else:
        await asyncio.to_thread(check_session, services, cid, bearer(request))
    customer = await asyncio.to_thread(verified_customer, services, body.identity, cid) if body.identity else None
    reply = await complete(services.pipeline, UserTurn(body.message, body.channel, cid, customer_id=customer))
    return ChatResponse.from_reply(reply, token)


@router.post("/conversations", response_model=SessionOut, status_code=201)
async def start_conversation(body: SessionIn, services: ServicesDep) -> SessionOut:
    """A conversation with no message yet: its id is what the bank signs into an identity assertion."""
    await check_new_conversation()  # the same per-client quota as a first message
    cid, token = await services.conversations.start_session_async(body.channel)
    return SessionOut(conversation_id=cid, session_token=token)


@router.websocket("/chat/ws")
async def chat_ws(ws: WebSocket) -> None:
    """Frames are documented in docs/ARCHITECTURE.md (streaming contract)."""
    await ws.accept()
    if ws.app.state.services is None:
        await ws.close(code=1013, reason="assistant is still loading")
        return
    await CustomerSocket(ws, ws.app.state.services).serve()
