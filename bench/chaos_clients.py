"""Clients of bench/chaos_soak.py: chat sockets, REST chat, hand-offs and agents, each recording
what the server ACKNOWLEDGED in a Ledger (a 2xx reply, a socket's `session`/`start`/`reply`/`sent`
frame), which the soak then looks up in the database.

A client whose request fails (connection dropped by a killed worker, 502/503 while a worker
loads, a timeout) counts the error with its time and sends the same thing again, on a new
connection; a resent message may be stored twice, which is not a loss. Every wait is bounded:
one that runs out counts as `hung`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import websockets

TURN_TIMEOUT_S = 90.0  # a generated reply queues behind the one local model; nothing should take this long
HTTP_TIMEOUT_S = 60.0
HUMAN = "I want to talk to a real person"


@dataclass
class Ledger:
    conversations: set[str] = field(default_factory=set)
    user_msgs: list[tuple[str, str]] = field(default_factory=list)  # (conversation, text): `start` frame or reply
    replies: list[tuple[str, int, str, str]] = field(default_factory=list)  # (conversation, message id, role, text)
    tickets: list[tuple[int | None, str]] = field(default_factory=list)  # (ticket id or None: a turn's hand-off, conversation)
    claims: list[tuple[int, int]] = field(default_factory=list)  # (ticket, agent)
    agent_msgs: list[tuple[int, str, str]] = field(default_factory=list)  # (message id, conversation, text)
    closes: list[tuple[int, str]] = field(default_factory=list)  # (ticket, resolution)
    errors: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, kind)
    hung: list[tuple[float, str, str]] = field(default_factory=list)  # (monotonic time, kind, what was awaited)
    ok: Counter = field(default_factory=Counter)
    latency_ms: list[float] = field(default_factory=list)
    # agent messages to a conversation whose customer socket followed it when sent: (time, message id)
    expected_events: list[tuple[float, int]] = field(default_factory=list)
    delivered: set[int] = field(default_factory=set)

    def error(self, kind: str) -> None:
        self.errors.append((time.monotonic(), kind))

    def timeout(self, kind: str, detail: str = "") -> None:
        self.hung.append((time.monotonic(), kind, detail))


class Context:
    """What every client shares: the URLs (one proxy, or workers in turn), the questions, the ledger, the deadline."""

    def __init__(self, urls: list[str], questions: list[str], ledger: Ledger, stop_at: float) -> None:
        self._urls = itertools.cycle(urls)
        self.questions, self.ledger, self.stop_at = questions, ledger, stop_at
        self.following: dict[str, bool] = {}  # conversation -> a customer socket follows it now

    def url(self) -> str:
        return next(self._urls)

    @property
    def running(self) -> bool:
        return time.monotonic() < self.stop_at


class Dropped(Exception):
    """The connection or the request failed before an acknowledgement: send it again."""


def _record_reply(ledger: Ledger, reply: dict, sent: str, t0: float) -> None:
    cid = reply["conversation_id"]
    ledger.user_msgs.append((cid, sent))
    if reply.get("message_id") is not None:
        role, text = ("user", sent) if reply["path"] == "human" else ("assistant", reply["reply"])
        ledger.replies.append((cid, reply["message_id"], role, text))
    if reply["path"] == "handoff":
        ledger.tickets.append((None, cid))
    ledger.ok["turn"] += 1
    ledger.latency_ms.append((time.perf_counter() - t0) * 1000)


class CustomerChat:
    """One conversation on the chat socket; reconnects (and resumes) on whichever worker answers."""

    def __init__(self, ctx: Context) -> None:
        self.ctx, self.cid, self.token = ctx, None, None
        self.ws = None
        self.frames: asyncio.Queue = asyncio.Queue()
        self.ended = asyncio.Event()  # the agent closed the hand-off
        self._reader: asyncio.Task | None = None

    async def _connect(self) -> None:
        await self.close()
        self.frames = asyncio.Queue()
        url = self.ctx.url().replace("http", "ws", 1) + "/v1/chat/ws"
        try:
            self.ws = await websockets.connect(url, open_timeout=15, close_timeout=2, max_size=2**20)
        except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
            raise Dropped(type(exc).__name__) from exc
        self._reader = asyncio.create_task(self._read(self.ws, self.frames))
        if self.cid is not None:
            await self._send({"type": "resume", "conversation_id": self.cid, "session_token": self.token})
            frame = await self._next(30, "resumed")
            if frame.get("type") != "resumed":
                raise Dropped(f"resume: {frame.get('status', frame.get('type'))}")
            self.ctx.following[self.cid] = True

    async def _read(self, ws, frames: asyncio.Queue) -> None:
        """This connection's frames: bus events recorded here, the rest queued for the turn in progress."""
        try:
            async for raw in ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "agent_message":
                    self.ctx.ledger.delivered.add(frame.get("message_id"))
                elif kind == "handoff_ended":
                    self.ended.set()
                elif kind not in ("agent_joined", "delta", "notice"):
                    frames.put_nowait(frame)
        except (websockets.exceptions.WebSocketException, OSError, ValueError):
            pass
        finally:
            if self.cid is not None and self.ws is ws:  # dropped by the server, not closed by us
                self.ctx.following[self.cid] = False
            frames.put_nowait(None)

    @property
    def alive(self) -> bool:
        return self.ws is not None and self._reader is not None and not self._reader.done()

    async def rejoin(self) -> None:
        """Follow the conversation again on a new connection (resume), until that works or the run ends."""
        while self.ctx.running and not self.alive:
            try:
                await self._connect()
            except Dropped as exc:
                self.ctx.ledger.error(f"ws: {exc}")
                await self.close()
                await asyncio.sleep(1 + random.random())

    async def _send(self, frame: dict) -> None:
        try:
            await self.ws.send(json.dumps(frame))
        except (websockets.exceptions.WebSocketException, OSError) as exc:
            raise Dropped(type(exc).__name__) from exc

    async def _next(self, wait_s: float, what: str) -> dict:
        try:
            frame = await asyncio.wait_for(self.frames.get(), wait_s)
        except TimeoutError:
            self.ctx.ledger.timeout("ws_frame", f"{what} conversation={self.cid} at={time.time():.0f}")
            raise Dropped("timeout") from None
        if frame is None:
            raise Dropped("closed")
        return frame

    async def _turn_once(self, text: str) -> dict:
        if not self.alive:
            await self._connect()
        t0 = time.perf_counter()
        frame = {"message": text} | ({"conversation_id": self.cid, "session_token": self.token} if self.cid else {})
        await self._send(frame)
        while True:
            f = await self._next(TURN_TIMEOUT_S, f"reply to {text[:30]!r}")
            kind = f.get("type")
            if kind == "session":
                self.cid, self.token = f["conversation_id"], f["session_token"]
                self.ctx.ledger.conversations.add(self.cid)
            elif kind == "start":
                self.ctx.following[self.cid] = True
            elif kind == "reply":
                _record_reply(self.ctx.ledger, f, text, t0)
                return f
            elif kind == "error":
                raise Dropped(f"error frame {f.get('status')}")

    async def turn(self, text: str) -> dict | None:
        """The reply frame; sent again (on a new connection) until acknowledged or the run ends."""
        while self.ctx.running:
            try:
                return await self._turn_once(text)
            except Dropped as exc:
                self.ctx.ledger.error(f"ws: {exc}")
                await self.close()
                await asyncio.sleep(1 + random.random())
        return None

    async def close(self) -> None:
        if self.cid is not None:
            self.ctx.following[self.cid] = False
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None
        if self.ws is not None:
            ws, self.ws = self.ws, None
            with contextlib.suppress(TimeoutError, websockets.exceptions.WebSocketException, OSError):
                await asyncio.wait_for(ws.close(), 3)


async def ws_customer(ctx: Context, think: float) -> None:
    """Conversations of 3-8 questions on the chat socket."""
    while ctx.running:
        chat = CustomerChat(ctx)
        try:
            for _ in range(random.randint(3, 8)):
                if await chat.turn(random.choice(ctx.questions)) is None:
                    break
                await asyncio.sleep(think * random.uniform(0.5, 1.5))
        finally:
            await chat.close()


async def http_request(ctx: Context, client: httpx.AsyncClient, method: str, path: str, kind: str, *,
                       ok: tuple[int, ...] = (200, 201), expected: tuple[int, ...] = (), **kw) -> httpx.Response | None:
    """One request until it is answered with a status in `ok` (returned) or one not worth retrying (None).
    A status in `expected` (409: another agent claimed first) returns None without counting an error."""
    while ctx.running:
        try:
            r = await client.request(method, ctx.url() + path, timeout=HTTP_TIMEOUT_S, **kw)
        except httpx.TimeoutException:
            ctx.ledger.timeout(kind, f"{method} {path} at={time.time():.0f}")
            continue
        except httpx.HTTPError as exc:
            ctx.ledger.error(f"{kind}: {type(exc).__name__}")
            await asyncio.sleep(1 + random.random())
            continue
        if r.status_code in ok:
            ctx.ledger.ok[kind] += 1
            return r
        if r.status_code in expected:
            ctx.ledger.ok[f"{kind}_{r.status_code}"] += 1
            return None
        ctx.ledger.error(f"{kind}: {r.status_code}")
        if r.status_code not in (429, 500, 502, 503, 504):
            return None
        await asyncio.sleep(1 + random.random())
    return None


async def rest_customer(ctx: Context, think: float) -> None:
    """Conversations of 2-6 questions over POST /v1/chat."""
    async with httpx.AsyncClient() as client:
        while ctx.running:
            cid, token = None, None
            for _ in range(random.randint(2, 6)):
                text = random.choice(ctx.questions)
                body = {"message": text} | ({"conversation_id": cid} if cid else {})
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                t0 = time.perf_counter()
                r = await http_request(ctx, client, "POST", "/v1/chat", "rest_turn", json=body, headers=headers)
                if r is None:
                    break
                reply = r.json()
                if reply.get("session_token"):
                    cid, token = reply["conversation_id"], reply["session_token"]
                    ctx.ledger.conversations.add(cid)
                _record_reply(ctx.ledger, reply, text, t0)
                await asyncio.sleep(think * random.uniform(0.5, 1.5))
