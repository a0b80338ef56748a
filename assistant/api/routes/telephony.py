"""Phone and audio-stream channels: Twilio webhook + media stream, and the PCM16 websocket.

Point a Twilio number's voice webhook at POST /v1/voice/twiml. The call is connected to
WS /v1/voice/twilio; when the stream closes Twilio asks /v1/voice/twiml/next what to do:
transfer to BANK_HANDOFF__AGENT_TRANSFER_NUMBER, queue with hold audio, or hang up. After an agent the caller is asked for
a keypad rating (telephony_survey.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request, WebSocket
from fastapi.responses import Response

from assistant.api.capped_body import read_capped
from assistant.api.deps import ServicesDep, SettingsDep, check_session
from assistant.api.routes.voice_deps import CallsDep, VoiceDep, call_directory, call_tokens, ready_voice, survey_tokens
from assistant.api.ws_auth import read_auth_token
from assistant.auth.live import close
from assistant.channels.call_tokens import BadCallToken
from assistant.channels.voice_setup import session_config
from assistant.i18n import t
from assistant.throttle import CLOSE_LIMITED, Limited, check_new_conversation
from voice import twilio

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/voice", tags=["telephony"])
XML = "application/xml"
MAX_FORM_BYTES = 64 * 1024  # Twilio's webhook forms are a few hundred bytes


def _base(request_base: str, settings) -> str:
    return (settings.voice.public_url or request_base).rstrip("/")


def base_url(request: Request) -> str:
    """The public base URL Twilio reaches us at (BANK_VOICE__PUBLIC_URL, else the request's)."""
    return _base(str(request.base_url), request.app.state.settings)


def _ws_url(base: str) -> str:
    return base.replace("https://", "wss://", 1).replace("http://", "ws://", 1)


def _telephony_on(settings: SettingsDep) -> None:
    if not settings.voice.telephony:
        raise HTTPException(status_code=404, detail="telephony is off (BANK_VOICE__TELEPHONY=false)")


TelephonyOn = Depends(_telephony_on)


async def twilio_form(request: Request, settings) -> dict[str, str]:
    """Twilio's form body; with BANK_VOICE__TWILIO_AUTH_TOKEN set, its signature must match."""
    body = await read_capped(request, MAX_FORM_BYTES, "form body too large")
    params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))  # Twilio signs empty ones too
    if settings.voice.twilio_auth_token:
        url = _base(str(request.base_url), settings) + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if not twilio.valid_signature(settings.voice.twilio_auth_token, url, params, request.headers.get("x-twilio-signature")):
            raise HTTPException(status_code=403, detail="bad X-Twilio-Signature")
    return params


def _stream_refusal(ws: WebSocket, settings) -> str | None:
    """Why a media-stream handshake is refused: telephony off, or (with an auth token) a bad signature.

    Twilio signs the wss URL of <Stream> like a webhook URL, with no parameters."""
    if not settings.voice.telephony:
        return "telephony is off"
    if settings.voice.twilio_auth_token:
        url = _ws_url(_base(str(ws.base_url), settings)) + ws.url.path + (f"?{ws.url.query}" if ws.url.query else "")
        if not twilio.valid_signature(settings.voice.twilio_auth_token, url, {}, ws.headers.get("x-twilio-signature")):
            return "bad X-Twilio-Signature"
    return None


@router.post("/twiml", response_class=Response, dependencies=[TelephonyOn])
async def incoming_call(request: Request, settings: SettingsDep, services: ServicesDep, _: VoiceDep) -> Response:
    """Twilio voice webhook for an incoming call: the call's conversation, and a signed token the stream must show."""
    params = await twilio_form(request, settings)
    cid = await services.conversations.create_async("voice")
    token = call_tokens(request.app).issue(cid, params.get("CallSid", ""))
    base = _base(str(request.base_url), settings)
    next_url = _next_url(request, cid, params.get("CallSid", ""))
    xml = twilio.connect_stream(_ws_url(base) + "/v1/voice/twilio", next_url, {"call_token": token})
    return Response(xml, media_type=XML)


@router.post("/twiml/next", response_class=Response, dependencies=[TelephonyOn])
async def after_stream(request: Request, settings: SettingsDep, calls: CallsDep) -> Response:
    """Twilio's <Connect action>: the stream ended; transfer, queue with hold audio, or hang up."""
    params = await twilio_form(request, settings)
    outcome = await calls.pop(params.get("CallSid", ""))
    if outcome is None or outcome.kind != "transfer":
        return Response(twilio.hangup(), media_type=XML)
    survey = _after_agent_url(request, params.get("CallSid", ""))
    if settings.handoff.agent_transfer_number:
        return Response(twilio.dial(settings.handoff.agent_transfer_number, action_url=survey), media_type=XML)
    return Response(twilio.enqueue(settings.voice.hold_queue, base_url(request) + "/v1/voice/hold", survey),
                    media_type=XML)


def _next_url(request: Request, conversation_id: str, call_sid: str) -> str:
    """The <Connect action> URL of a new call: with the survey on, it carries the call's signed `call` parameter."""
    url = base_url(request) + "/v1/voice/twiml/next"
    if not request.app.state.settings.voice.csat:
        return url
    return url + "?" + urlencode({"call": survey_tokens(request.app).issue(conversation_id, call_sid)})


def _after_agent_url(request: Request, call_sid: str) -> str | None:
    """The action URL of a transfer (<Dial>, <Enqueue>): the survey once the agent leg ends. None when the survey
    is off or /twiml/next came without a valid `call` parameter (the transfer goes on without the survey)."""
    token = request.query_params.get("call")
    if not request.app.state.settings.voice.csat or not token:
        return None
    try:
        survey_tokens(request.app).verify(token, call_sid)
    except BadCallToken as exc:
        log.warning("transfer without the after-agent survey: %s", exc)
        return None
    return base_url(request) + "/v1/voice/csat?" + urlencode({"call": token})


@router.get("/hold", response_class=Response, dependencies=[TelephonyOn])
async def hold_music(request: Request, settings: SettingsDep) -> Response:
    """waitUrl of the agent queue: loop the hold message."""
    return Response(twilio.hold(_base(str(request.base_url), settings) + "/v1/voice/hold.wav"), media_type=XML)


@router.get("/hold.wav", response_class=Response, dependencies=[TelephonyOn])
async def hold_audio(request: Request, voice: VoiceDep) -> Response:
    from voice.audio import wav_bytes

    cached = getattr(request.app.state, "voice_hold_wav", None)
    if cached is None:
        import numpy as np

        speech = await asyncio.to_thread(voice.tts.synthesize_all, t("voice.hold"))
        pause = np.zeros(speech.sample_rate * 4, dtype=np.int16)  # a gentle gap between repeats
        cached = request.app.state.voice_hold_wav = wav_bytes(np.concatenate([speech.pcm16, pause]), speech.sample_rate)
    return Response(cached, media_type="audio/wav")


@router.websocket("/twilio")
async def twilio_stream(ws: WebSocket) -> None:
    """Twilio Media Streams (bidirectional): connected, start, media, mark, dtmf, stop in; media, mark, clear out.

    The handshake must carry a valid X-Twilio-Signature (with BANK_VOICE__TWILIO_AUTH_TOKEN set), and
    `start` the call_token that POST /v1/voice/twiml issued for this CallSid."""
    from assistant.channels.voice_transports import run_twilio_call

    settings = ws.app.state.settings
    refusal = _stream_refusal(ws, settings)
    if refusal is not None:
        await ws.close(code=1008, reason=refusal)  # before accept: the handshake is answered 403
        return
    ready = await ready_voice(ws)
    if ready is None:
        return
    services, stack = ready
    await ws.accept()
    await run_twilio_call(ws, services, stack, session_config(services.settings), call_directory(ws.app),
                          tokens=call_tokens(ws.app), idle_s=settings.voice.idle_timeout_s)


@router.websocket("/pcm")
async def pcm_stream(
    ws: WebSocket, rate: int = Query(16000), out_rate: int = Query(16000), partials: bool = Query(False),
    channel: Literal["voice", "robot", "web"] = Query("voice"), conversation_id: str | None = Query(None, max_length=64),
) -> None:
    """PCM16 LE mono in (default 16 kHz), JSON events and PCM16 audio out; see docs/voice.md. With
    conversation_id, the first frame is {"type": "auth", "token": <the customer's session token>}."""
    from assistant.channels.voice_transports import run_pcm_session

    ready = await ready_voice(ws)
    if ready is None:
        return
    services, stack = ready
    await ws.accept()
    if conversation_id is not None:  # continuing a chat by voice: the customer's session token proves it is theirs
        session_token = await read_auth_token(ws, timeout_s=services.settings.auth.ws_auth_timeout_s, what="session token")
        if session_token is None:
            return
        try:
            await asyncio.to_thread(check_session, services, conversation_id, session_token)
        except HTTPException as exc:
            await close(ws, 4000 + exc.status_code, str(exc.detail)[:120])
            return
    if rate not in (8000, 16000, 24000, 44100, 48000) or out_rate not in (8000, 16000, 22050, 24000, 44100, 48000):
        await close(ws, 1003, "unsupported sample rate")
        return
    if conversation_id is None:  # the session starts a conversation: per-client quota
        try:
            await check_new_conversation()
        except Limited as exc:
            await close(ws, CLOSE_LIMITED, exc.message[:120])
            return
    cfg = session_config(services.settings, channel=channel, partials=partials)
    await run_pcm_session(ws, services, stack, cfg, in_rate=rate, out_rate=out_rate, conversation_id=conversation_id,
                          idle_s=ws.app.state.settings.voice.idle_timeout_s)
