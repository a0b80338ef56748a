"""Hand-offs for bench/chaos_soak.py: customers who ask for a person, and agents who claim, reply and close.

A customer asks on the chat socket (typed: the dialogue hands off) or with the widget's button
(POST /v1/conversations/{id}/handoff), writes once more while waiting (stored, relayed to the
agent), then waits for the agent. Agents poll the queue, claim, answer (REST or their socket,
in turn) and close. Every acknowledged ticket, claim, agent message and close goes to the Ledger;
an agent message to a conversation whose customer socket follows it is expected on that socket
(the Redis bus carries it across workers), which measures live delivery, not storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time

import httpx
import websockets
from chaos_clients import HUMAN, Context, CustomerChat, http_request

WAIT_FOR_AGENT_S = 120.0


async def handoff_customer(ctx: Context, think: float) -> None:
    async with httpx.AsyncClient() as client:
        while ctx.running:
            chat = CustomerChat(ctx)
            try:
                await _one_handoff(ctx, client, chat, think)
            finally:
                await chat.close()
            await asyncio.sleep(think * random.uniform(0.5, 1.5))


async def _one_handoff(ctx: Context, client: httpx.AsyncClient, chat: CustomerChat, think: float) -> None:
    if await chat.turn(random.choice(ctx.questions)) is None:
        return
    await asyncio.sleep(think * random.uniform(0.5, 1.5))
    typed = random.random() < 0.5 and await chat.turn(HUMAN)
    if not typed or typed["path"] not in ("handoff", "human"):  # the button, as the widget offers it
        r = await http_request(ctx, client, "POST", f"/v1/conversations/{chat.cid}/handoff", "handoff",
                               headers={"Authorization": f"Bearer {chat.token}"})
        if r is None:
            return
        ctx.ledger.tickets.append((r.json()["ticket_id"], chat.cid))
    await asyncio.sleep(think * random.uniform(0.5, 1.5))
    if await chat.turn("Are you still there? It is about a card payment.") is None:
        return
    deadline = time.monotonic() + WAIT_FOR_AGENT_S
    while ctx.running and time.monotonic() < deadline and not chat.ended.is_set():
        if not chat.alive:  # dropped (a worker was killed): follow the conversation again
            await chat.rejoin()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(chat.ended.wait(), 2)


class Agent:
    """One console user: login, socket (events, and replies sent as frames), queue, claim, answer, close."""

    def __init__(self, ctx: Context, client: httpx.AsyncClient, username: str, password: str) -> None:
        self.ctx, self.client, self.username, self.password = ctx, client, username, password
        self.token, self.id = None, None
        self.ws = None
        self.sent: dict[int, asyncio.Future] = {}
        self.events = 0
        self._n = 0

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    async def login(self) -> bool:
        r = await http_request(self.ctx, self.client, "POST", "/v1/agent/login", "agent_login",
                               json={"username": self.username, "password": self.password})
        if r is not None:
            body = r.json()
            self.token, self.id = body["token"], body["agent"]["id"]
        return r is not None

    async def socket(self) -> None:
        """The agent socket, reopened whenever it drops; counts live events, completes `sent` acks."""
        while self.ctx.running:
            url = self.ctx.url().replace("http", "ws", 1) + "/v1/agent/ws"
            try:
                async with websockets.connect(url, open_timeout=15, close_timeout=2) as ws:
                    await ws.send(json.dumps({"type": "auth", "token": self.token}))
                    self.ws = ws
                    async for raw in ws:
                        frame = json.loads(raw)
                        if frame.get("type") == "sent" and (f := self.sent.pop(frame["ticket_id"], None)):
                            f.done() or f.set_result(frame["message_id"])
                        elif frame.get("type") in ("customer_message", "ticket_created"):
                            self.events += 1
            except (OSError, TimeoutError, ValueError, websockets.exceptions.WebSocketException) as exc:
                self.ctx.ledger.error(f"agent_ws: {type(exc).__name__}")
            self.ws = None
            for f in self.sent.values():
                f.done() or f.cancel()
            await asyncio.sleep(1 + random.random())

    async def reply(self, ticket_id: int, cid: str) -> None:
        """Every other reply as a socket frame (acknowledged by `sent`), the others over REST."""
        text = f"Hello, this is {self.username}; I can help with that."
        self._n += 1
        following = self.ctx.following.get(cid, False)
        mid = await self._reply_ws(ticket_id, text) if self._n % 2 and self.ws is not None else None
        if mid is None:
            r = await http_request(self.ctx, self.client, "POST", f"/v1/agent/tickets/{ticket_id}/messages",
                                   "agent_message", json={"text": text}, headers=self.auth)
            mid = r.json()["message_id"] if r is not None else None
        if mid is not None:
            self.ctx.ledger.agent_msgs.append((mid, cid, text))
            if following:
                self.ctx.ledger.expected_events.append((time.monotonic(), mid))

    async def _reply_ws(self, ticket_id: int, text: str) -> int | None:
        future = self.sent[ticket_id] = asyncio.get_running_loop().create_future()
        try:
            await self.ws.send(json.dumps({"ticket_id": ticket_id, "text": text}))
            mid = await asyncio.wait_for(future, 30)
            self.ctx.ledger.ok["agent_message_ws"] += 1
            return mid
        except (TimeoutError, asyncio.CancelledError, OSError, websockets.exceptions.WebSocketException) as exc:
            self.ctx.ledger.error(f"agent_ws_send: {type(exc).__name__}")
            self.sent.pop(ticket_id, None)
            return None

    async def work_one(self, ticket: dict) -> None:
        r = await http_request(self.ctx, self.client, "POST", f"/v1/agent/tickets/{ticket['id']}/claim", "claim",
                               headers=self.auth, expected=(409,))
        if r is None:  # 409: another agent was first
            return
        self.ctx.ledger.claims.append((ticket["id"], self.id))
        await asyncio.sleep(random.uniform(0.5, 2))
        await self.reply(ticket["id"], ticket["conversation_id"])
        await asyncio.sleep(random.uniform(1, 3))
        r = await http_request(self.ctx, self.client, "POST", f"/v1/agent/tickets/{ticket['id']}/close", "close",
                               json={"resolution": "resolved"}, headers=self.auth, expected=(409,))
        if r is not None:
            self.ctx.ledger.closes.append((ticket["id"], "resolved"))


async def agent(ctx: Context, username: str, password: str) -> None:
    async with httpx.AsyncClient() as client:
        a = Agent(ctx, client, username, password)
        if not await a.login():
            return
        sock = asyncio.create_task(a.socket())
        try:
            while ctx.running:
                r = await http_request(ctx, client, "GET", "/v1/agent/tickets", "queue", headers=a.auth)
                if r is not None:
                    queued = [t for t in r.json() if t["status"] == "queued"]
                    if queued:
                        await a.work_one(random.choice(queued[:3]))
                        continue
                await asyncio.sleep(random.uniform(1, 2))
        finally:
            sock.cancel()
