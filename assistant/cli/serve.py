"""`bankassist serve`, `llm-serve` and `chat`: the server, the model server, a terminal chat."""

from __future__ import annotations

import argparse
import asyncio
import sys

from assistant.config import Settings

# An idle HTTP connection closes after this many seconds; a proxy that keeps connections to the API
# must close its idle ones sooner (deploy/nginx.conf `keepalive_timeout`).
KEEP_ALIVE_S = 5


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from assistant.api.app import create_app

    uvicorn.run(create_app(settings), host=args.host or settings.server.host, port=args.port or settings.server.port,
                log_config=None, ws_max_size=64 * 1024, ws_per_message_deflate=False, timeout_graceful_shutdown=5,
                timeout_keep_alive=KEEP_ALIVE_S,
                proxy_headers=True, forwarded_allow_ips=settings.security.forwarded_allow_ips)
    return 0


def _llm_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from assistant.config import offline_environment
    from assistant.llm.server import create_llm_app
    from assistant.services import build_generator

    offline_environment()
    if settings.llm.backend == "openai":  # this process is the server: an in-process backend
        settings = settings.model_copy(update={"llm_backend": Settings.model_fields["llm_backend"].default})
    uvicorn.run(create_llm_app(build_generator(settings), args.model_name), host=args.host, port=args.port, log_config=None)
    return 0


def _chat(settings: Settings, _: argparse.Namespace) -> int:
    from assistant.core.events import Reply, ReplyDelta, TurnStarted, UserTurn
    from assistant.services import build_services

    print("loading models…", file=sys.stderr)
    services = build_services(settings)
    print(f"{settings.bank_name} assistant. Type your question; an empty line or Ctrl-D quits.\n")
    cid = None

    async def turn(text: str) -> None:
        nonlocal cid
        async for ev in services.pipeline.run(UserTurn(text, "cli", cid)):
            if isinstance(ev, TurnStarted):
                cid = ev.conversation_id
                print("assistant> ", end="", flush=True)
            elif isinstance(ev, ReplyDelta):
                print(ev.text, end="", flush=True)
            elif isinstance(ev, Reply):
                if ev.path != "generated":  # streamed text was replaced, or nothing streamed
                    print(("\r" if ev.first_token_ms else "") + "assistant> " + ev.text, end="")
                print()
                for i, c in enumerate(ev.citations, 1):
                    print(f"   [{i}] {c.title} ({c.doc_id})")
                if ev.suggestions:
                    print("   you could also ask: " + " | ".join(ev.suggestions))
                print(f"   ({ev.path}, {ev.latency_ms:.0f} ms)\n")

    while True:
        try:
            text = input("you> ").strip()
        except EOFError:
            break
        if not text:
            break
        asyncio.run(turn(text[: settings.server.max_message_chars]))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the HTTP/websocket server")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=_serve)
    p = sub.add_parser("llm-serve", help="serve the local model over the OpenAI chat API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--model-name", default="bankassist")
    p.set_defaults(func=_llm_serve)
    sub.add_parser("chat", help="interactive terminal chat with the same dialogue core").set_defaults(func=_chat)
