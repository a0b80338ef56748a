"""Websocket sign-in: the token travels in the first frame, never in the URL.

URLs end up in access logs (ours, a proxy's, a browser's history), frames do not. One scheme
for every socket that needs a credential: the client's first text frame is
`{"type": "auth", "token": "..."}` (the agent console: its login token; the PCM voice socket
continuing a chat: the customer's session token). The robot protocol's `hello` frame plays the
same part. A missing, late (BANK_AUTH__WS_AUTH_TIMEOUT_S) or wrong token closes the socket with 4401.
Live sockets re-check their credential every BANK_AUTH__SESSION_RECHECK_S (assistant/auth/live.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from fastapi import WebSocket
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.auth.live import CLOSE_UNAUTHORIZED, close

T = TypeVar("T")


class AuthFrame(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=200)


async def read_auth_token(ws: WebSocket, *, timeout_s: float, what: str) -> str | None:
    """The token of the first frame `{"type": "auth", "token"}` of an accepted socket; None (the
    socket closed with 4401, or gone) when it is missing, malformed or late."""
    try:
        msg = await asyncio.wait_for(ws.receive(), timeout=timeout_s)
    except TimeoutError:
        await close(ws, CLOSE_UNAUTHORIZED, f'send {{"type": "auth", "token": ...}} within {timeout_s:g} s')
        return None
    if msg["type"] == "websocket.disconnect":
        return None
    try:
        return AuthFrame.model_validate_json(msg.get("text") or "").token
    except ValidationError:
        await close(ws, CLOSE_UNAUTHORIZED, f'first frame must be {{"type": "auth", "token": <{what}>}}')
        return None


async def first_frame_auth(ws: WebSocket, resolve: Callable[[str], Awaitable[T | None]], *, timeout_s: float,
                           what: str) -> tuple[T, str] | None:
    """`read_auth_token`, then `resolve` it (e.g. to an agent); None, the socket closed with 4401,
    on any failure. `what` names the credential in the close reason."""
    token = await read_auth_token(ws, timeout_s=timeout_s, what=what)
    if token is None:
        return None
    found = await resolve(token)
    if found is None:
        await close(ws, CLOSE_UNAUTHORIZED, f"unknown, expired or revoked {what}")
        return None
    return found, token
