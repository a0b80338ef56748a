"""Dependency aliases for the voice routes: 503 naming the [voice] extra when speech is not installed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket

from assistant.api.deps import get_services
from assistant.channels.voice_setup import VOICE_EXTRA_HINT


def _stack(services) -> object:
    stack = getattr(services, "voice", None)
    if stack is None:
        raise HTTPException(status_code=503, detail=getattr(services, "voice_error", None) or VOICE_EXTRA_HINT)
    return stack


def get_voice(request: Request) -> object:
    return _stack(get_services(request))


def get_calls(request: Request):
    return call_directory(request.app)


def call_directory(app):
    """The app's CallDirectory (Redis when BANK_REDIS_URL is set), made on first use (not at import time)."""
    from assistant.channels.call_directory import build_call_directory

    if getattr(app.state, "voice_calls", None) is None:
        settings = app.state.settings
        app.state.voice_calls = build_call_directory(redis_url=settings.redis_url, prefix=settings.redis_prefix)
    return app.state.voice_calls


def call_tokens(app):
    """The app's CallTokens (keyed by BANK_TWILIO_AUTH_TOKEN), made on first use."""
    from assistant.channels.call_tokens import CallTokens

    if getattr(app.state, "voice_call_tokens", None) is None:
        app.state.voice_call_tokens = CallTokens.from_auth_token(app.state.settings.twilio_auth_token)
    return app.state.voice_call_tokens


async def ready_voice(ws: WebSocket):
    """(services, stack) for a voice websocket, or None after closing it with a reason."""
    services = ws.app.state.services
    stack = getattr(services, "voice", None) if services is not None else None
    if stack is None:
        await ws.accept()
        reason = "assistant is still loading" if services is None else (services.voice_error or VOICE_EXTRA_HINT)
        await ws.close(code=1013, reason=reason[:120])
        return None
    return services, stack


VoiceDep = Annotated[object, Depends(get_voice)]
CallsDep = Annotated[object, Depends(get_calls)]
