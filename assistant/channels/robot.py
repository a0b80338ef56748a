"""One lobby-robot session over `WS /v1/robot` (protocol: assistant/channels/robot_protocol.py).

Text turns run the dialogue pipeline directly; binary PCM16 audio goes through the same
VoiceSession the phone line uses (robot_voice.py). Frames are parsed by `robot_protocol.parse_client`. A bad
frame gets an error and the session goes on; only auth and protocol-version failures close it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING

from fastapi import WebSocket, WebSocketDisconnect
from pydantic import BaseModel
from starlette.types import Message

from assistant.analytics.csat import QUESTION, AlreadyRated, asks_survey
from assistant.auth.live import close, watch
from assistant.bus import conversation_topic
from assistant.channels import robot_protocol as rp
from assistant.channels.peer import Peer
from assistant.channels.robot_voice import RobotVoice
from assistant.core.events import Reply, ReplyDelta, UserTurn
from assistant.throttle import CLOSE_LIMITED, Limited, check_new_conversation, rebind_client

if TYPE_CHECKING:
    from assistant.services import Services
    from assistant.storage.robots import RobotView

log = logging.getLogger(__name__)


class _Closed(Exception):
    pass


class RobotSession:
    def __init__(self, ws: WebSocket, services: Services, display: rp.DisplayMap, *, idle_timeout_s: float) -> None:
        self.ws, self.services, self.display, self.idle = ws, services, display, idle_timeout_s
        self.peer = Peer(ws)
        self.robot: RobotView | None = None
        self._token = ""
        self.cid: str | None = None
        self.tts = False
        self.voice = RobotVoice(self, services, services.voice, services.voice_error or "speech is not installed")
        self._tasks: set[asyncio.Task] = set()

    async def send_raw(self, frame: dict) -> None:
        await self.peer.send_json(frame)

    async def send(self, msg: BaseModel) -> None:
        await self.send_raw(msg.model_dump(mode="json"))

    async def send_bytes(self, data: bytes) -> None:
        await self.peer.send_bytes(data)

    def _peer(self) -> tuple[RobotView, str]:
        """The robot and the conversation the handshake settled."""
        if self.robot is None or self.cid is None:
            raise _Closed  # nothing runs before the handshake
        return self.robot, self.cid

    async def _receive(self) -> Message:
        try:
            msg = await asyncio.wait_for(self.ws.receive(), timeout=self.idle)
        except TimeoutError:
            await self.send(rp.ServerBye(reason="idle"))
            await close(self.ws, rp.CLOSE_IDLE, "idle timeout")
            raise _Closed from None
        if msg["type"] == "websocket.disconnect":
            raise _Closed
        return msg

    async def _error(self, code: rp.ErrorCode, message: str, **extra) -> None:
        await self.send(rp.Error(code=code, message=message, **extra))

    async def serve(self) -> None:
        try:
            await self._handshake()
            await self._loop()
        except (_Closed, WebSocketDisconnect):
            pass
        finally:
            for task in list(self._tasks):
                task.cancel()
            await self.voice.close()

    async def _handshake(self) -> None:
        msg = await self._receive()
        hello = rp.parse_client(msg.get("text") or "")
        if isinstance(hello, tuple):
            code, message = hello
            extra = {"supported_versions": list(rp.SUPPORTED_VERSIONS)} if code == "unsupported_version" else {}
            await self._error(code, message, **extra)
            await close(self.ws, rp.CLOSE_PROTOCOL, code)
            raise _Closed
        if not isinstance(hello, rp.Hello):
            await self._error("malformed", "the first message must be hello")
            await close(self.ws, rp.CLOSE_PROTOCOL, "hello expected")
            raise _Closed
        self.robot, self._token = await self.services.robots.resolve_async(hello.token), hello.token
        if self.robot is None:
            await close(self.ws, rp.CLOSE_UNAUTHORIZED, "unknown or revoked robot token")
            raise _Closed
        rebind_client(f"robot:{self.robot.id}")  # limits count per device, not per branch address
        self.cid = cid = await self._conversation(hello.conversation_id, f"robot:{self.robot.id}")
        voice = self.services.voice
        self.tts = hello.tts and voice is not None
        await self.send(rp.Session(
            session_id=uuid.uuid4().hex, conversation_id=cid, branch_id=self.robot.branch_id,
            supported_versions=list(rp.SUPPORTED_VERSIONS), idle_timeout_s=self.idle,
            audio_out=f"pcm16le/{voice.tts.sample_rate}/mono" if voice is not None and self.tts else None,
        ))
        self._spawn(self._relay_agent_events())
        self._spawn(watch(self._valid, self._revoked, interval_s=self.services.settings.auth.session_recheck_s))

    async def _conversation(self, resume: str | None, owner: str) -> str:
        """A robot resumes only conversations it started itself (not another robot's or branch's,
        never a customer's token-held one); any other id starts a new conversation."""
        repo = self.services.conversations
        if resume:
            owned: bool = await repo.read(repo.server_owned, resume, "robot", owner)
            if owned:
                return resume
        try:
            await check_new_conversation()
        except Limited as exc:
            await self._error("rate_limited", exc.message)
            await close(self.ws, CLOSE_LIMITED, exc.message[:120])
            raise _Closed from None
        return await repo.create_async("robot", owner=owner)

    async def _valid(self) -> bool:
        return await self.services.robots.resolve_async(self._token) is not None

    async def _revoked(self) -> None:
        """`bankassist robots revoke`: the live session ends too, with the documented close code."""
        await self.send(rp.ServerBye(reason="revoked"))
        await close(self.ws, rp.CLOSE_UNAUTHORIZED, "robot token revoked")

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _relay_agent_events(self) -> None:
        _, cid = self._peer()
        async with self.services.bus.subscribe(conversation_topic(cid)) as queue:
            while True:
                event = await queue.get()
                await self.send_raw({"v": 1, **event})

    async def _loop(self) -> None:
        while True:
            msg = await self._receive()
            if msg.get("bytes") is not None:
                await self._audio(msg["bytes"])
                continue
            parsed = rp.parse_client(msg.get("text") or "")
            if isinstance(parsed, tuple):
                await self._error(*parsed)
            elif isinstance(parsed, rp.Text):
                if not await self._valid():
                    await self._revoked()
                    raise _Closed
                try:
                    await self._text_turn(parsed.text)
                except Limited as exc:  # turns per conversation (assistant/throttle.py): the session goes on
                    await self._error("rate_limited", exc.message)
            elif isinstance(parsed, rp.SignIn):
                await self._sign_in(parsed)
            elif isinstance(parsed, rp.Ping):
                await self.send(rp.Pong(id=parsed.id))
            elif isinstance(parsed, rp.Played):
                self.voice.played(parsed.mark)
            elif isinstance(parsed, rp.Bye):
                await self.send(rp.ServerBye(reason="client_bye"))
                await close(self.ws, 1000, "bye")
                raise _Closed
            elif isinstance(parsed, rp.Done):
                await self.survey()
            elif isinstance(parsed, rp.Csat):
                await self._csat(parsed)
            elif isinstance(parsed, rp.Hello):
                await self._error("malformed", "hello was already received")

    async def _text_turn(self, text: str) -> None:
        robot, cid = self._peer()
        final = None
        async for event in self.services.pipeline.run(UserTurn(text, "robot", cid, branch_id=robot.branch_id)):
            if isinstance(event, ReplyDelta):
                await self.send(rp.ReplyDelta(text=event.text))
            elif isinstance(event, Reply):
                final = event
        if final is None:
            return
        await self._reply(final)
        if final.path == "handoff":
            await self._staff_needed(final.handoff.reason if final.handoff else "handoff")
        if self.tts and final.text:
            await self.voice.speak(final.text)
        if asks_survey(final):
            await self.survey()

    async def survey(self) -> None:
        """Ask for the visitor's rating on screen, unless this conversation has one already (or answers are
        not stored on this server: then nothing is asked)."""
        csat, cid = self.services.csat, self.cid
        if csat is None or cid is None:
            return
        if await asyncio.to_thread(csat.answered, cid):
            await self._error("already_rated", "this conversation has been rated already")
            return
        await self.send(rp.Survey(conversation_id=cid, question=QUESTION))

    async def _csat(self, answer: rp.Csat) -> None:
        csat, cid = self.services.csat, self.cid
        if csat is None or cid is None:
            await self._error("not_ready", "satisfaction answers are not stored here")
            return
        try:
            await asyncio.to_thread(csat.record, cid, answer.score, answer.comment)
        except AlreadyRated:
            await self._error("already_rated", "this conversation has been rated already")
            return
        await self.send(rp.CsatSaved(score=answer.score))

    async def _reply(self, final: Reply) -> None:
        await self.send(rp.Reply(
            text=final.text, path=final.path, suggestions=list(final.suggestions),
            citations=[rp.Citation(doc_id=c.doc_id, title=c.title, snippet=c.snippet) for c in final.citations],
            intent=final.intent.name if final.intent else None, message_id=final.message_id,
            display=self.display.for_reply(final.path, [c.category for c in final.citations if c.category],
                                           final.intent.name if final.intent else None,
                                           final.flow.awaiting if final.flow else None),
        ))

    async def _sign_in(self, msg: rp.SignIn) -> None:
        """The on-screen keypad sign-in (assistant/core/sign_in.py); the number and PIN go to the bank only."""
        if self.services.keypad is None or self.cid is None:
            await self._error("not_ready", "sign-in is not available here")
            return
        result = await self.services.keypad.sign_in(self.cid, msg.customer_number, msg.pin, "robot")
        await self.send(rp.SignInResult(status=result.status, text=result.text))
        if result.reply is not None:
            await self._reply(result.reply)
        if self.tts:
            await self.voice.speak(result.reply.text if result.reply is not None else result.text)

    async def _staff_needed(self, reason: str) -> None:
        robot, cid = self._peer()
        ticket = await asyncio.to_thread(self.services.tickets.open_for, cid)
        if ticket is None:
            return
        position = await asyncio.to_thread(self.services.tickets.position, ticket)
        minutes = self.services.handoff.expected_wait_minutes(position)
        await self.send(rp.StaffNeeded(ticket_id=ticket.id, reason=reason, branch_id=robot.branch_id,
                                       position=position, expected_wait_minutes=minutes))

    async def _audio(self, data: bytes) -> None:
        error = await self.voice.audio(data, self.cid)
        if error is not None:
            await self._error(*error)
