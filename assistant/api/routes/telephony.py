"""Phone and audio-stream channels: Twilio webhook + media stream, and the PCM16 websocket.

Point a Twilio number's voice webhook at POST /v1/voice/twiml. The call is connected to
WS /v1/voice/twilio; when the stream closes Twilio asks /v1/voice/twiml/next what to do:
transfer to BANK_AGENT_TRANSFER_NUMBER, queue with hold audio, or hang up.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Query, Request, WebSocket
from fastapi.responses import Response

from assistant.api.deps import SettingsDep, check_session
from assistant.api.routes.voice_deps import CallsDep, VoiceDep, call_directory, ready_voice
from assistant.channels.voice_setup import session_config
from assistant.throttle import CLOSE_LIMITED, Limited, check_new_conversation
from voice import twilio

router = APIRouter(prefix="/v1/voice", tags=["telephony"])
XML = "application/xml"


def _base(request: Request, settings) -> str:
    return (settings.voice_public_url or str(request.base_url)).rstrip("/")


async def _form(request: Request, settings) -> dict[str, str]:
    """Twilio's form body; with BANK_TWILIO_AUTH_TOKEN set, its signature must match."""
    params = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    if settings.twilio_auth_token:
        url = _base(request, settings) + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if not twilio.valid_signature(settings.twilio_auth_token, url, params, request.headers.get("x-twilio-signature")):
            raise HTTPException(status_code=403, detail="bad X-Twilio-Signature")
    return params


@router.post("/twiml", response_class=Response)
async def incoming_call(request: Request, settings: SettingsDep, _: VoiceDep) -> Response:
    """Twilio voice webhook for an incoming call: connect it to our media-stream websocket."""
    params = await _form(request, settings)
    base = _base(request, settings)
    ws_url = base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/v1/voice/twilio"
    custom = {"caller": "redacted"} if params.get("From") else {}
    return Response(twilio.connect_stream(ws_url, base + "/v1/voice/twiml/next", custom), media_type=XML)


@router.post("/twiml/next", response_class=Response)
async def after_stream(request: Request, settings: SettingsDep, calls: CallsDep) -> Response:
    """Twilio's <Connect action>: the stream ended; transfer, queue with hold audio, or hang up."""
    params = await _form(request, settings)
    outcome = calls.pop(params.get("CallSid", ""))
    if outcome is None or outcome.kind != "transfer":
        return Response(twilio.hangup(), media_type=XML)
    if settings.agent_transfer_number:
        return Response(twilio.dial(settings.agent_transfer_number), media_type=XML)
    return Response(twilio.enqueue(settings.voice_hold_queue, _base(request, settings) + "/v1/voice/hold"), media_type=XML)


@router.get("/hold", response_class=Response)
async def hold_music(request: Request, settings: SettingsDep) -> Response:
    """waitUrl of the agent queue: loop the hold message."""
    return Response(twilio.hold(_base(request, settings) + "/v1/voice/hold.wav"), media_type=XML)


@router.get("/hold.wav", response_class=Response)
async def hold_audio(request: Request, voice: VoiceDep) -> Response:
    from voice.audio import wav_bytes

    cached = getattr(request.app.state, "voice_hold_wav", None)
    if cached is None:
        import numpy as np

        speech = await asyncio.to_thread(voice.tts.synthesize_all, "Thank you for holding. An agent will be with you shortly.")
        pause = np.zeros(speech.sample_rate * 4, dtype=np.int16)  # a gentle gap between repeats
        cached = request.app.state.voice_hold_wav = wav_bytes(np.concatenate([speech.pcm16, pause]), speech.sample_rate)
    return Response(cached, media_type="audio/wav")


@router.websocket("/twilio")
async def twilio_stream(ws: WebSocket) -> None:
    """Twilio Media Streams (bidirectional): connected, start, media, mark, dtmf, stop in; media, mark, clear out."""
    from assistant.channels.voice_transports import run_twilio_call

    ready = await ready_voice(ws)
    if ready is None:
        return
    services, stack = ready
    await ws.accept()
    await run_twilio_call(ws, services, stack, session_config(services.settings), call_directory(ws.app))


@router.websocket("/pcm")
async def pcm_stream(
    ws: WebSocket, rate: int = Query(16000), out_rate: int = Query(16000), partials: bool = Query(False),
    channel: str = Query("voice", pattern="^(voice|robot|web)$"), conversation_id: str | None = Query(None, max_length=64),
    session_token: str | None = Query(None, max_length=128, description="needed with conversation_id"),
) -> None:
    """PCM16 LE mono in (default 16 kHz), JSON events and PCM16 audio out; see docs/voice.md."""
    from assistant.channels.voice_transports import run_pcm_session

    ready = await ready_voice(ws)
    if ready is None:
        return
    services, stack = ready
    await ws.accept()
    if conversation_id is not None:  # continuing a chat by voice: the customer's session token proves it is theirs
        try:
            await asyncio.to_thread(check_session, services, conversation_id, session_token)
        except HTTPException as exc:
            await ws.close(code=4000 + exc.status_code, reason=str(exc.detail)[:120])
            return
    if rate not in (8000, 16000, 24000, 44100, 48000) or out_rate not in (8000, 16000, 22050, 24000, 44100, 48000):
        await ws.close(code=1003, reason="unsupported sample rate")
        return
    if conversation_id is None:  # the session starts a conversation: per-client quota
        try:
            await check_new_conversation()
        except Limited as exc:
            await ws.close(code=CLOSE_LIMITED, reason=exc.message[:120])
            return
    cfg = session_config(services.settings, channel=channel, partials=partials)
    await run_pcm_session(ws, services, stack, cfg, in_rate=rate, out_rate=out_rate, conversation_id=conversation_id)
