"""FastAPI app factory. Models load in a background thread so /healthz can answer 'loading'."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant import __version__
from assistant.api import openapi_links
from assistant.api.routes import (
    admin,
    agent,
    analytics,
    chat,
    conversations,
    demo,
    health,
    intent,
    kb,
    kb_editor,
    messages,
    qa,
    robot,
    suggestions,
    telephony,
    telephony_survey,
    voice,
)
from assistant.api.security import ClientLimits, security_headers
from assistant.config import PROJECT_ROOT, Settings
from assistant.core.pipeline import UnknownConversation
from assistant.logging_setup import request_id
from assistant.services import Services, build_services
from assistant.storage.tickets import TicketConflict, TicketNotFound
from assistant.throttle import Limited, Throttle, client_key

log = logging.getLogger(__name__)
WEB_DIR = PROJECT_ROOT / "web"


# Pages served as files from web/: path -> (file, route name).
PAGES = {
    "/": ("index.html", "index"),
    "/agent": ("agent.html", "agent_console"),
    "/console/kb": ("console-kb.html", "kb_console"),
    "/console/qa": ("console-qa.html", "qa_console"),
}
ROUTERS = (health, chat, conversations, kb, agent, admin, voice, telephony, telephony_survey, robot, suggestions, messages,
           demo, kb_editor, analytics, qa)


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="Bank assistant API", version=__version__, lifespan=_lifespan(settings, services),
        description="One dialogue core for web chat, phone and lobby robots. Replies cite the knowledge base.",
    )
    app.state.settings = settings
    app.state.services = services
    app.state.startup_error = None
    app.state.kb_follower = None
    app.state.qa_worker = None
    for module in ROUTERS:
        app.include_router(module.router)
    kb_editor.install_errors(app)
    app.include_router(intent.router)
    openapi_links.install(app)
    limiter = Throttle.from_settings(settings)
    app.state.limiter = limiter
    _install_middleware(app, settings, limiter)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        services = app.state.services
        body = (services.metrics.render() if services is not None else b"") + limiter.render()
        return Response(body, media_type="text/plain; version=0.0.4")

    _install_error_handlers(app)
    _mount_web(app)
    return app


def _lifespan(settings: Settings, services: Services | None):
    """Loads the models in the background unless a test passed `services`; on shutdown closes what it built."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        task = None
        if app.state.services is None:
            task = asyncio.create_task(_load(app, settings))
        else:
            _follow_kb(app)
        yield
        if task is not None and not task.done():
            task.cancel()
        if app.state.kb_follower is not None:
            app.state.kb_follower.cancel()
        if app.state.qa_worker is not None:
            app.state.qa_worker.cancel()
        built: Services | None = app.state.services
        if built is not None and services is None:  # ours to close, not a test's
            await built.bus.close()
            built.conversations.close()  # the writer thread commits what is queued, then stops
            built.embedder.close()
            await asyncio.to_thread(built.generator.close)  # waits for a decode still running in its worker thread

    return lifespan


def _install_middleware(app: FastAPI, settings: Settings, limiter: Throttle) -> None:
    """CORS (when configured), then the request context, then `ClientLimits` outermost."""
    if settings.security.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.security.cors_origins, allow_methods=["GET", "POST", "PUT", "DELETE"],
                           allow_headers=["content-type", "authorization", "x-request-id"], max_age=600)

    @app.middleware("http")
    async def _request_context(request: Request, call_next):
        """Request id for logs and the response; per-IP rate limit; security headers; timing."""
        rid = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex[:16]
        token = request_id.set(rid)
        t0 = time.perf_counter()
        try:
            if request.url.path.startswith("/v1/"):
                await limiter.check("ip", client_key(request.client.host if request.client else None))
            response = await call_next(request)
        except Limited as exc:
            response = _limited(exc)
        finally:
            request_id.reset(token)
        security_headers(request.url.path, response.headers)
        route = request.scope.get("route")
        services = app.state.services
        if services is not None and route is not None:
            services.metrics.http.labels(getattr(route, "path", "?"), request.method, response.status_code).observe(
                time.perf_counter() - t0)
        response.headers["X-Request-ID"] = rid
        return response

    app.add_middleware(ClientLimits, throttle=limiter)  # outermost: binds the caller for everything inside


def _mount_web(app: FastAPI) -> None:
    """The widget's static files and the pages in `PAGES`, when web/ ships with this install."""
    if not WEB_DIR.is_dir():
        return
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    for path, (file, name) in PAGES.items():
        app.add_api_route(path, _page(WEB_DIR / file), methods=["GET"], name=name, include_in_schema=False)


def _page(file: Path) -> Callable[[], Awaitable[FileResponse]]:
    async def page() -> FileResponse:
        return FileResponse(file)

    return page


def _install_error_handlers(app: FastAPI) -> None:
    """Failures a route lets through, as the answer the client gets (never a 500, never the input echoed)."""

    @app.exception_handler(Limited)
    async def _over_limit(_: Request, exc: Limited) -> JSONResponse:
        return _limited(exc)

    @app.exception_handler(UnknownConversation)
    async def _unknown(_: Request, exc: UnknownConversation) -> JSONResponse:
        return JSONResponse({"detail": "unknown conversation_id"}, status_code=404)

    @app.exception_handler(OperationalError)
    async def _db_down(_: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", type(exc.orig).__name__ if exc.orig else "OperationalError")
        return JSONResponse({"detail": "the service is temporarily unavailable; please retry shortly"},
                            status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(TicketNotFound)
    async def _no_ticket(_: Request, exc: TicketNotFound) -> JSONResponse:
        return JSONResponse({"detail": f"unknown ticket {exc}"}, status_code=404)

    @app.exception_handler(TicketConflict)
    async def _conflict(_: Request, exc: TicketConflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Never echo the input back: it may hold a card number.
        errors = [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            detail = "request body must be UTF-8 encoded JSON"
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))


def _limited(exc: Limited) -> JSONResponse:
    return JSONResponse({"detail": exc.message}, status_code=429, headers={"Retry-After": str(exc.retry_after)})


async def _load(app: FastAPI, settings: Settings) -> None:
    try:
        app.state.services = await asyncio.to_thread(build_services, settings)
    except Exception as exc:  # surfaced by /healthz and 503s, not a crash loop
        log.exception("startup failed")
        app.state.startup_error = f"{type(exc).__name__}: {exc}"
        return
    # The models, the index and the libraries live as long as the process: take them out of the
    # cyclic collector's reach, or every full collection walks them while every session on this
    # process stalls (docs/decisions/0009-faq-path-under-load.md).
    gc.freeze()
    _follow_kb(app)


def _follow_kb(app: FastAPI) -> None:
    """Other replicas' knowledge-base changes, for as long as the app runs (assistant/kb_sync.py); and
    the quality-inspection worker that scores closed conversations (assistant/qa/service.py)."""
    app.state.kb_follower = asyncio.create_task(app.state.services.kb_admin.follow())
    qa = app.state.services.qa
    if qa is not None and app.state.settings.qa.enabled:
        app.state.qa_worker = asyncio.create_task(qa.run_forever())
