"""Per-client limits at the edge of the app (assistant/throttle.py has the rules) and security headers."""

from __future__ import annotations

from assistant.throttle import CLOSE_LIMITED, Limited, Throttle, bind, client_key, unbind

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), geolocation=(), microphone=(self)",
    "cache-control": "no-store",
}
# Sockets whose peer relays many customers (Twilio's media servers carry every caller): their
# handshakes count per address, but their conversations and tickets have no per-client quota.
NO_CLIENT_QUOTA = ("/v1/voice/twilio",)


class ClientLimits:
    """ASGI middleware: binds the caller (throttle + client) for the request or socket, and
    limits websocket handshakes per client on every socket (close 4429 with the reason).

    The client address is the ASGI peer, which the server sets from X-Forwarded-For only when the
    connection comes from a trusted proxy (uvicorn: BANK_SECURITY__FORWARDED_ALLOW_IPS, never '*')."""

    def __init__(self, app, throttle: Throttle) -> None:
        self.app, self.throttle = app, throttle

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        key = client_key(peer[0] if peer else None)
        token = bind(self.throttle, None if scope["path"].startswith(NO_CLIENT_QUOTA) else key)
        try:
            if scope["type"] == "websocket":
                try:
                    await self.throttle.check("ws_connect", key)
                except Limited as exc:
                    await _refuse(receive, send, exc)
                    return
            await self.app(scope, receive, send)
        finally:
            unbind(token)


async def _refuse(receive, send, exc: Limited) -> None:
    """Accept, then close with 4429 and the reason, so every client library sees why."""
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": CLOSE_LIMITED, "reason": exc.message[:120]})


def security_headers(path: str, headers) -> None:
    for k, v in HEADERS.items():
        headers.setdefault(k, v)
    if not path.startswith(("/v1/", "/metrics", "/healthz", "/static/")):
        headers.setdefault("content-security-policy", PAGE_CSP)
