"""Dependency aliases for the voice routes: 503 naming the [voice] extra when speech is not installed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, WebSocket

from assistant.api.deps import get_services
from assistant.channels.voice_setup import VOICE_EXTRA_HINT
from assistant.services import Services

if TYPE_CHECKING:
    from assistant.channels.call_directory import CallDirectory
    from assistant.channels.call_tokens import CallTokens, SurveyTokens
    from voice.stack import VoiceStack


def _stack(services: Services) -> VoiceStack:
    if services.voice is None:
        raise HTTPException(status_code=503, detail=services.voice_error or VOICE_EXTRA_HINT)
    return services.voice


def get_voice(request: Request) -> VoiceStack:
    return _stack(get_services(request))


def get_calls(request: Request) -> CallDirectory:
    return call_directory(request.app)


def call_directory(app: FastAPI) -> CallDirectory:
    """The app's CallDirectory (Redis when BANK_REDIS__URL is set), made on first use (not at import time)."""
    from assistant.channels.call_directory import build_call_directory

    if getattr(app.state, "voice_calls", None) is None:
        settings = app.state.settings
        app.state.voice_calls = build_call_directory(redis_url=settings.redis.url, prefix=settings.redis.prefix)
    return app.state.voice_calls


def call_tokens(app: FastAPI) -> CallTokens:
    """The app's CallTokens (keyed by BANK_VOICE__TWILIO_AUTH_TOKEN), made on first use."""
    from assistant.channels.call_tokens import CallTokens

    if getattr(app.state, "voice_call_tokens", None) is None:
        app.state.voice_call_tokens = CallTokens.from_auth_token(app.state.settings.voice.twilio_auth_token)
    return app.state.voice_call_tokens


def survey_tokens(app: FastAPI) -> SurveyTokens:
    """The app's SurveyTokens (keyed by BANK_VOICE__TWILIO_AUTH_TOKEN), made on first use."""
    from assistant.channels.call_tokens import SurveyTokens

    if getattr(app.state, "voice_survey_tokens", None) is None:
        app.state.voice_survey_tokens = SurveyTokens.from_auth_token(app.state.settings.voice.twilio_auth_token)
    return app.state.voice_survey_tokens


async def ready_voice(ws: WebSocket) -> tuple[Services, VoiceStack] | None:
    """(services, stack) for a voice websocket, or None after closing it with a reason."""
    services: Services | None = ws.app.state.services
    if services is None or services.voice is None:
        await ws.accept()
        reason = "assistant is still loading" if services is None else (services.voice_error or VOICE_EXTRA_HINT)
        await ws.close(code=1013, reason=reason[:120])
        return None
    return services, services.voice


if TYPE_CHECKING:
    VoiceDep = Annotated[VoiceStack, Depends(get_voice)]
    CallsDep = Annotated[CallDirectory, Depends(get_calls)]
else:  # voice.stack needs the [voice] extra, so it is not imported at run time; FastAPI reads only the Depends
    VoiceDep = Annotated[object, Depends(get_voice)]
    CallsDep = Annotated[object, Depends(get_calls)]
