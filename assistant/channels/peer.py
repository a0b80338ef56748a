"""Sending to a websocket peer that may have gone: the one helper every socket uses.

A send after the peer went away (a disconnect, a closed stream, a transport error) marks the peer gone
instead of raising, and later sends are skipped: the work in flight finishes and is stored (e.g. a reply
the customer reads on resume). Sends are serialised, so concurrent tasks never interleave one frame.
Encoding happens before the send: a frame that is not JSON is a bug that raises, not a gone peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect


class Peer:
    def __init__(self, ws: WebSocket) -> None:
        self.ws, self.open, self._lock = ws, True, asyncio.Lock()

    async def send_text(self, text: str) -> None:
        await self._send(text, None)

    async def send_bytes(self, data: bytes) -> None:
        await self._send(None, data)

    async def send_json(self, frame: Any) -> None:
        await self._send(json.dumps(frame, separators=(",", ":"), ensure_ascii=False), None)

    async def _send(self, text: str | None, data: bytes | None) -> None:
        if not self.open:
            return
        async with self._lock:
            try:
                if text is not None:
                    await self.ws.send_text(text)
                if data is not None:
                    await self.ws.send_bytes(data)
            except Exception:  # any failure to send (disconnect, closed stream) means the peer is gone
                self.open = False

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close once; a peer that is already gone is no error."""
        if self.open:
            self.open = False
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await self.ws.close(code=code, reason=reason[:120])
