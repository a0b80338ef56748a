"""Audio transports for VoiceSession: Twilio Media Streams and raw PCM16 (browser page, lobby robots)."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

import numpy as np
from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect

from assistant.channels.call_directory import CallDirectory
from assistant.channels.call_tokens import BadCallToken, CallTokens
from assistant.channels.peer import Peer
from assistant.channels.voice_frames import PcmDtmf, PcmHangup, PcmMark, pcm_frame
from assistant.channels.voice_session import VoiceSession
from assistant.channels.voice_types import CallOutcome, SessionConfig, SessionServices
from voice import twilio
from voice.audio import (
    ASR_RATE,
    PHONE_RATE,
    StreamResampler,
    float_to_pcm16,
    pcm16_to_float,
    resample,
    ulaw_decode,
    ulaw_encode,
)
from voice.stack import VoiceStack

log = logging.getLogger(__name__)
TWILIO_CHUNK = 640  # bytes of mu-law (80 ms) per outbound media message
MAX_PCM_FRAME = 64000  # bytes: 2 s of 16 kHz PCM16 in one websocket message
IDLE_CLOSE = 4408  # close code of a socket that went quiet (4000 + HTTP 408, like the PCM socket's 4401/4403)


_closing: set[asyncio.Task] = set()


async def _finish(session: VoiceSession, reason: str) -> None:
    """Close a session even when the socket handler itself is being cancelled (peer vanished)."""
    task = asyncio.ensure_future(session.close(reason))
    _closing.add(task)
    task.add_done_callback(_closing.discard)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        raise  # the close itself goes on in the background and stores what was said


class IdleTimeout(Exception):
    """The peer sent nothing for the idle timeout."""


async def _receive(ws: WebSocket, idle_s: float | None) -> Message:
    try:
        return await asyncio.wait_for(ws.receive(), idle_s)
    except TimeoutError:
        raise IdleTimeout from None


@dataclass
class TwilioAudioOut:
    sock: Peer
    stream_sid: str
    call_sid: str
    calls: CallDirectory

    async def play(self, pcm16: np.ndarray, rate: int, mark: str) -> None:
        ulaw = ulaw_encode(float_to_pcm16(resample(pcm16_to_float(pcm16), rate, PHONE_RATE)))
        for i in range(0, len(ulaw), TWILIO_CHUNK):
            await self.sock.send_text(twilio.media_message(self.stream_sid, ulaw[i : i + TWILIO_CHUNK]))
        await self.sock.send_text(twilio.mark_message(self.stream_sid, mark))

    async def clear(self) -> None:
        await self.sock.send_text(twilio.clear_message(self.stream_sid))

    async def notify(self, event: dict) -> None:
        return None  # a phone has no screen

    async def end(self, outcome: CallOutcome) -> None:
        await self.calls.set(self.call_sid or self.stream_sid, outcome)
        await self.sock.close()  # Twilio then requests the <Connect action> URL


async def _granted_conversation(start: twilio.Start, tokens: CallTokens, calls: CallDirectory) -> str:
    """The conversation named by the start's call token, spent here. Raises ProtocolError."""
    try:
        grant = tokens.verify(start.custom_parameters.get("call_token"), start.call_sid)
    except BadCallToken as exc:
        raise twilio.ProtocolError(str(exc)) from None
    if not await calls.claim("call-token:" + grant.token_id):
        raise twilio.ProtocolError("call token already used")
    return grant.conversation_id


def _close_code(reason: str) -> int:
    return 1000 if reason == "caller_hangup" else IDLE_CLOSE if reason.startswith("idle") else 1008


async def _twilio_event(session: VoiceSession, ev: twilio.Media | twilio.Mark | twilio.Dtmf,
                        upsample: StreamResampler) -> None:
    if isinstance(ev, twilio.Media):
        await session.feed(upsample(pcm16_to_float(ulaw_decode(ev.payload))))
    elif isinstance(ev, twilio.Mark):
        session.played(ev.name)
    else:
        await session.dtmf(ev.digit)


async def run_twilio_call(ws: WebSocket, services: SessionServices, stack: VoiceStack, config: SessionConfig, calls: CallDirectory, *,
                          tokens: CallTokens, idle_s: float | None = None) -> None:
    """One phone call over a Twilio bidirectional media stream. Malformed input ends the call cleanly;
    so does a start without a valid call token, and `idle_s` without any message."""
    sock = Peer(ws)
    session: VoiceSession | None = None
    upsample = StreamResampler(PHONE_RATE, ASR_RATE)
    reason = "caller_hangup"
    try:
        while sock.open:
            msg = await _receive(ws, idle_s)
            if msg["type"] == "websocket.disconnect":
                break
            if msg.get("text") is None:
                raise twilio.ProtocolError("binary frame on a Twilio stream")
            ev = twilio.parse(msg["text"])
            if isinstance(ev, twilio.Start):
                if session is not None:
                    raise twilio.ProtocolError("second start")
                if ev.encoding != "audio/x-mulaw" or ev.sample_rate != PHONE_RATE:
                    raise twilio.ProtocolError(f"unsupported media format {ev.encoding}/{ev.sample_rate}")
                cid = await _granted_conversation(ev, tokens, calls)
                out = TwilioAudioOut(sock, ev.stream_sid, ev.call_sid, calls)
                session = VoiceSession(stack=stack, services=services, out=out, config=config)
                await session.start(cid)
            elif isinstance(ev, (twilio.Media, twilio.Mark, twilio.Dtmf)):
                if session is None:
                    raise twilio.ProtocolError(f"{type(ev).__name__.lower()} before start")
                await _twilio_event(session, ev, upsample)
            elif isinstance(ev, twilio.Stop):
                break
    except twilio.ProtocolError as exc:
        reason = f"protocol error: {exc}"
        log.warning("twilio stream closed: %s", exc)
    except IdleTimeout:
        reason = f"idle: no message for {idle_s:g} s"
    except WebSocketDisconnect:
        pass
    finally:
        if session is not None:
            await _finish(session, reason)
        await sock.close(_close_code(reason), "" if reason == "caller_hangup" else reason)


@dataclass
class PcmAudioOut:
    sock: Peer
    rate: int

    async def play(self, pcm16: np.ndarray, rate: int, mark: str) -> None:
        pcm = float_to_pcm16(resample(pcm16_to_float(pcm16), rate, self.rate))
        await self.sock.send_text(json.dumps({"type": "audio", "mark": mark, "sample_rate": self.rate,
                                              "bytes": int(pcm.nbytes)}))
        await self.sock.send_bytes(pcm.astype("<i2").tobytes())

    async def clear(self) -> None:
        await self.sock.send_text(json.dumps({"type": "clear"}))

    async def notify(self, event: dict) -> None:
        await self.sock.send_text(json.dumps(event))

    async def end(self, outcome: CallOutcome) -> None:
        await self.sock.send_text(json.dumps({"type": "end", "outcome": outcome.kind, "ticket_id": outcome.ticket_id}))
        await self.sock.close()


async def run_pcm_session(ws: WebSocket, services: SessionServices, stack: VoiceStack, config: SessionConfig, *, in_rate: int = ASR_RATE,
                          out_rate: int = ASR_RATE, conversation_id: str | None = None, idle_s: float | None = None) -> None:
    """Binary PCM16 LE mono frames in; JSON events + binary PCM16 audio out (docs/voice.md).

    Text frames from the client: {"type":"mark","name"} when a clip finished playing,
    {"type":"dtmf","digit"} (an "agent" button), {"type":"hangup"}. `conversation_id` must
    already be proven the caller's (the route checks its session token). Nothing received
    for `idle_s`: an error event, then close code 4408.
    """
    sock = Peer(ws)
    out = PcmAudioOut(sock, out_rate)
    session = VoiceSession(stack=stack, services=services, out=out, config=config)
    to_asr = StreamResampler(in_rate, ASR_RATE)
    reason = "caller_hangup"
    try:
        await session.start(conversation_id)
        while sock.open:
            msg = await _receive(ws, idle_s)
            if msg["type"] == "websocket.disconnect":
                break
            if msg.get("bytes") is not None:
                data = msg["bytes"]
                if len(data) > MAX_PCM_FRAME or len(data) % 2:
                    raise ValueError("audio frames must be PCM16 (even length) and at most 2 s")
                await session.feed(to_asr(pcm16_to_float(data)))
                continue
            frame = pcm_frame(msg.get("text") or "")
            if isinstance(frame, PcmMark):
                session.played(frame.name)
            elif isinstance(frame, PcmDtmf):
                await session.dtmf(frame.digit[:1])
            elif isinstance(frame, PcmHangup):
                break
    except ValueError as exc:
        reason = f"protocol error: {exc}"
        await out.notify({"type": "error", "detail": str(exc)})
    except IdleTimeout:
        reason = f"idle: no message for {idle_s:g} s"
        await out.notify({"type": "error", "detail": reason})
    except WebSocketDisconnect:
        pass
    finally:
        await _finish(session, reason)
        await sock.close(_close_code(reason), "" if reason == "caller_hangup" else reason)
