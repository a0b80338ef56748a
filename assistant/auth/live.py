"""Live sockets re-check their credential: a revoked, disabled or expired one ends the session."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from fastapi import WebSocket, WebSocketDisconnect

CLOSE_UNAUTHORIZED = 4401  # the same code as a failed sign-in: log in (or re-provision) again
log = logging.getLogger(__name__)


async def close(ws: WebSocket, code: int, reason: str) -> None:
    """Close, unless the client is gone already (closed, or its connection dropped while we sent)."""
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await ws.close(code=code, reason=reason)


async def watch(still_valid: Callable[[], Awaitable[bool]], end: Callable[[], Awaitable[None]], *,
                interval_s: float) -> None:
    """Every `interval_s`, ask `still_valid`; the first False calls `end` (which closes the socket)."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            ok = await still_valid()
        except Exception as exc:  # database down: keep the socket; the next check decides
            log.warning("session re-check failed (%s)", type(exc).__name__)
            continue
        if not ok:
            await end()
            return
