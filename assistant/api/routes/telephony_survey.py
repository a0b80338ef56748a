"""The caller's keypad rating after an agent: Twilio asks our <Dial action> / <Enqueue action> URL when the agent
leg ends, and the caller still on the line hears the 1-5 question (<Gather numDigits="1">).

The URLs carry `call`, a SurveyToken naming the call's conversation and CallSid (issued by POST /v1/voice/twiml
into the <Connect action> URL, checked and passed on by /twiml/next); with BANK_VOICE__TWILIO_AUTH_TOKEN set the
X-Twilio-Signature over the whole URL and form must match too. One answer per conversation (409 for a second).
`BANK_VOICE__CSAT=false` turns it off: no `call` parameter is issued and these routes answer 404.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from assistant.analytics.csat import AlreadyRated, CsatRepository, UnknownConversation
from assistant.api.deps import ServicesDep, SettingsDep
from assistant.api.routes.telephony import XML, TelephonyOn, base_url, twilio_form
from assistant.api.routes.voice_deps import survey_tokens
from assistant.channels.call_tokens import BadCallToken, CallGrant
from assistant.channels.voice_types import VoicePrompts
from voice import twilio

router = APIRouter(prefix="/v1/voice", tags=["telephony"])
PROMPTS = VoicePrompts()
KEYS = "12345"


def _csat_on(settings: SettingsDep) -> None:
    if not settings.voice.csat:
        raise HTTPException(status_code=404, detail="the phone survey is off (BANK_VOICE__CSAT=false)")


CsatOn = Depends(_csat_on)


async def _call(request: Request, settings, services) -> tuple[dict[str, str], CallGrant, CsatRepository]:
    """The signed form, the grant of its `call` parameter (403 when missing, forged or for another call), and
    where answers are stored."""
    params = await twilio_form(request, settings)
    try:
        grant = survey_tokens(request.app).verify(request.query_params.get("call"), params.get("CallSid", ""))
    except BadCallToken as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from None
    if services.csat is None:
        raise HTTPException(status_code=503, detail="satisfaction answers are not stored on this server")
    return params, grant, services.csat


def _xml(body: str) -> Response:
    return Response(body, media_type=XML)


@router.post("/csat", response_class=Response, dependencies=[TelephonyOn, CsatOn])
async def after_agent(request: Request, settings: SettingsDep, services: ServicesDep) -> Response:
    """<Dial action> / <Enqueue action>: the agent leg ended. A caller still on the line after a connected agent
    is asked for one key 1-5; otherwise (no agent answered, the caller left, rated already) the call ends."""
    params, grant, csat = await _call(request, settings, services)
    connected = params.get("DialCallStatus") == "completed" or params.get("QueueResult") == "bridged"
    still_there = params.get("CallStatus", "in-progress") == "in-progress"
    try:
        open_ = await asyncio.to_thread(csat.can_rate, grant.conversation_id)
    except UnknownConversation:
        raise HTTPException(status_code=404, detail="no such conversation") from None
    if not (connected and still_there and open_):
        return _xml(twilio.hangup())
    answer_url = base_url(request) + "/v1/voice/csat/answer?" + urlencode({"call": request.query_params["call"]})
    return _xml(twilio.gather_digit(answer_url, PROMPTS.csat_ask, PROMPTS.csat_timeout))


@router.post("/csat/answer", response_class=Response, dependencies=[TelephonyOn, CsatOn])
async def rating(request: Request, settings: SettingsDep, services: ServicesDep) -> Response:
    """<Gather action>: the caller's key. 1-5 is stored once for the call's conversation (channel voice), the caller
    is thanked and the call ends; another key 422, a second rating 409, an unknown conversation 404."""
    params, grant, csat = await _call(request, settings, services)
    digits = params.get("Digits", "")
    if len(digits) != 1 or digits not in KEYS:
        raise HTTPException(status_code=422, detail="Digits must be one key from 1 to 5")
    try:
        await asyncio.to_thread(csat.record, grant.conversation_id, int(digits))
    except UnknownConversation:
        raise HTTPException(status_code=404, detail="no such conversation") from None
    except AlreadyRated:
        raise HTTPException(status_code=409, detail="this call's conversation is rated already") from None
    return _xml(twilio.hangup(PROMPTS.csat_thanks))
