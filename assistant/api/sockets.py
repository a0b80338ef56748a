"""Websocket sessions for customers and agents (kept out of the thin route modules)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from fastapi import HTTPException, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from assistant.api.deps import check_session, verified_customer
from assistant.api.schemas import AgentFrame, ChatResponse, CustomerFrame, ResumeFrame, validation_detail
from assistant.auth.live import CLOSE_UNAUTHORIZED, close, watch
from assistant.bus import AGENTS_TOPIC, conversation_topic
from assistant.channels.peer import Peer
from assistant.core.events import Reply, ReplyDelta, TurnError, TurnStarted, UserTurn
from assistant.core.pipeline import UnknownConversation
from assistant.services import Services
from assistant.storage.agents import AgentView
from assistant.storage.models import utcnow
from assistant.storage.tickets import TicketConflict, TicketNotFound
from assistant.throttle import Limited, check_new_conversation

log = logging.getLogger(__name__)


def event_frame(event) -> dict:
    if isinstance(event, TurnStarted):
        return {"type": "start", "conversation_id": event.conversation_id}
    if isinstance(event, ReplyDelta):
        return {"type": "delta", "text": event.text}
    if isinstance(event, TurnError):
        return {"type": "notice", "stage": event.stage}
    assert isinstance(event, Reply)
    return {"type": "reply", **ChatResponse.from_reply(event).model_dump(mode="json")}


async def _same(message: dict) -> dict:
    return message


def _log_failure(task: asyncio.Task) -> None:
    """A forwarding task that fails says so (the socket then stops getting live events)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("socket event forwarding stopped: %s", type(task.exception()).__name__)


class _Socket:
    def __init__(self, ws: WebSocket, services: Services) -> None:
        self.ws, self.services, self.peer = ws, services, Peer(ws)
        self._follower: asyncio.Task | None = None

    @property
    def connected(self) -> bool:
        """False once the peer has gone or the socket was ended: work in flight finishes and is stored for resume."""
        return self.peer.open

    def _disconnected(self) -> None:
        self.peer.open = False

    async def serve(self) -> None:
        """Serve the socket's frames; however that ends, the bus forwarding ends with it."""
        try:
            await self._serve()
        finally:
            self._disconnected()
            await self._unfollow()

    async def _serve(self) -> None:
        raise NotImplementedError

    async def _unfollow(self) -> None:
        follower, self._follower = self._follower, None
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await follower

    async def send(self, frame: dict) -> None:
        await self.peer.send_json(frame)

    def follow(self, topic: str, transform) -> None:
        """Forward bus events on `topic` to this socket (replacing an earlier follow)."""
        if self._follower is not None:
            self._follower.cancel()

        async def pump() -> None:
            async with self.services.bus.subscribe(topic) as queue:
                while self.connected:
                    frame = await transform(await queue.get())
                    if frame is not None:
                        await self.send(frame)

        self._follower = asyncio.create_task(pump())
        self._follower.add_done_callback(_log_failure)

    async def frames(self):
        """Text frames as parsed JSON-ish strings; binary frames get an error, not a crash."""
        while self.connected:
            try:
                msg = await self.ws.receive()
            except WebSocketDisconnect:
                break
            if msg["type"] == "websocket.disconnect":
                break
            if msg.get("text") is None:
                await self.send({"type": "error", "status": 415, "detail": "send JSON text frames"})
                continue
            yield msg["text"]
        self._disconnected()


class CustomerSocket(_Socket):
    """Chat turns (streamed) plus live agent events for the conversation."""

    cid: str | None = None

    def __init__(self, ws: WebSocket, services: Services) -> None:
        super().__init__(ws, services)
        # conversations this socket started or proved a token for, and when that token expires
        self.authorized: dict[str, datetime] = {}

    async def _watch(self, cid: str) -> None:
        if cid != self.cid:
            self.cid = cid
            self.follow(conversation_topic(cid), _same)
            await asyncio.sleep(0)  # let the subscription start before events can be published

    async def _serve(self) -> None:
        async for text in self.frames():
            try:
                body = CustomerFrame.validate_json(text)
            except ValidationError as exc:
                await self.send({"type": "error", "status": 422, "detail": validation_detail(exc)})
                continue
            if isinstance(body, ResumeFrame):
                await self._resume(body)
                continue
            channel = "web" if body.channel == "api" else body.channel
            if body.identity and body.conversation_id is None:
                await self.send({"type": "error", "status": 400, "detail": "an identity assertion is made for a "
                                 "conversation: start one first (POST /v1/conversations)"})
                continue
            try:
                cid = await self._session(body.conversation_id, body.session_token, channel)
                if cid is None:
                    continue
                customer = None
                if body.identity:
                    try:
                        customer = await asyncio.to_thread(verified_customer, self.services, body.identity, cid)
                    except HTTPException as exc:
                        await self.send({"type": "error", "status": exc.status_code, "detail": exc.detail})
                        continue
                async for event in self.services.pipeline.run(UserTurn(body.message, channel, cid, customer_id=customer)):
                    if isinstance(event, TurnStarted):
                        await self._watch(event.conversation_id)
                    await self.send(event_frame(event))
            except UnknownConversation:
                await self.send({"type": "error", "status": 404, "detail": "unknown conversation_id"})
            except Limited as exc:  # turns per conversation or new conversations per client: the socket stays open
                await self.send({"type": "error", "status": 429, "detail": exc.message, "retry_after": exc.retry_after})

    async def _session(self, cid: str | None, token: str | None, channel: str) -> str | None:
        """The conversation this frame may use: new (its token sent once), or proven by its live token.
        Every frame checks the token's expiry, also on a conversation this socket already proved."""
        if cid is None:
            await check_new_conversation()
            cid, token = await self.services.conversations.start_session_async(channel)
            await self.send({"type": "session", "conversation_id": cid, "session_token": token})
            self.authorized[cid] = utcnow() + timedelta(hours=self.services.settings.auth.customer_session_ttl_h)
            return cid
        expires = self.authorized.get(cid)
        if expires is not None and expires <= utcnow():
            del self.authorized[cid]
            await self.send({"type": "error", "status": 401, "detail": "session token expired; start a new conversation"})
            return None
        if expires is None:
            try:
                self.authorized[cid] = await self.services.conversations.read(check_session, self.services, cid, token)
            except HTTPException as exc:
                await self.send({"type": "error", "status": exc.status_code, "detail": exc.detail})
                return None
        return cid

    async def _resume(self, frame: ResumeFrame) -> None:
        cid = frame.conversation_id
        if await self._session(cid, frame.session_token, "web") is None:
            return
        await self._watch(cid)
        status = await self.services.conversations.read(self.services.conversations.status, cid)
        await self.send({"type": "resumed", "conversation_id": cid, "status": status})


class AgentSocket(_Socket):
    """Queue changes for every agent; customer messages for the tickets this agent holds.

    The agent's token is re-checked every BANK_AUTH__SESSION_RECHECK_S and before each frame it sends:
    after a logout, `agents disable` or expiry the socket closes with 4401."""

    def __init__(self, ws: WebSocket, services: Services, agent: AgentView, token: str) -> None:
        super().__init__(ws, services)
        self.agent, self._token = agent, token

    async def _valid(self) -> bool:
        return await asyncio.to_thread(self.services.agents.resolve, self._token) is not None

    async def _end(self) -> None:
        await self.send({"type": "session_ended", "detail": "logged out, disabled or expired; log in again"})
        self._disconnected()
        await close(self.ws, CLOSE_UNAUTHORIZED, "agent session ended")

    async def _serve(self) -> None:
        async def visible(message: dict) -> dict | None:
            if message.get("type") != "customer_message":
                return message
            try:
                ticket = await asyncio.to_thread(self.services.tickets.get, message["ticket_id"])
            except TicketNotFound:
                return None
            return message if ticket.claimed_by == self.agent.id else None

        self.follow(AGENTS_TOPIC, visible)
        watcher = asyncio.create_task(watch(self._valid, self._end, interval_s=self.services.settings.auth.session_recheck_s))
        try:
            await asyncio.sleep(0)
            await self.send({"type": "hello", "agent": self.agent.display_name})
            async for text in self.frames():
                if not await self._valid():
                    await self._end()  # the loop then ends on its own, with its cleanup
                    continue
                try:
                    frame = AgentFrame.model_validate_json(text)
                except ValidationError:
                    await self.send({"type": "error", "status": 422, "detail": 'send {"ticket_id": int, "text": str}'})
                    continue
                ticket_id, body = frame.ticket_id, frame.text.strip()[:4000]
                if not body:
                    continue
                try:
                    mid = await self.services.handoff.agent_message(ticket_id, self.agent, body)
                    await self.send({"type": "sent", "ticket_id": ticket_id, "message_id": mid})
                except (TicketNotFound, TicketConflict) as exc:
                    await self.send({"type": "error", "status": 409, "detail": str(exc)})
        finally:
            watcher.cancel()
