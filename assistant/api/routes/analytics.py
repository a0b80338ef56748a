"""Supervisor analytics: figures (JSON and CSV), the conversations behind any cell, their redacted
transcripts, and knowledge gaps; the pages /console/analytics and /console/conversations.

Plain `def` routes: the queries run in FastAPI's thread pool, never on the event loop.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import FileResponse, Response

from assistant.analytics import Analytics, Filters, UnknownFigure
from assistant.api.deps import ServicesDep, require_roles
from assistant.api.schemas import ErrorOut, Responses
from assistant.auth.roles import Role
from assistant.config import PROJECT_ROOT
from assistant.storage.agents import AgentView

router = APIRouter(tags=["analytics"])
Supervisor = Annotated[AgentView, Depends(require_roles(Role.SUPERVISOR))]
GapReader = Annotated[AgentView, Depends(require_roles(Role.SUPERVISOR, Role.KB_EDITOR, Role.KB_APPROVER))]
ERRORS: Responses = {code: {"model": ErrorOut} for code in (401, 403, 404, 422, 503)}
MAX_DAYS = 731
WEB = PROJECT_ROOT / "web"


def filters(start: date | None = None, end: date | None = None,
            channel: Literal["web", "api", "cli", "voice", "robot"] | None = None,
            intent: Annotated[str | None, Query(max_length=64)] = None,
            granularity: Literal["day", "week"] = "day") -> Filters:
    """Days in UTC, both included; the last 30 days by default."""
    end = end or datetime.now(UTC).date()
    start = start or end - timedelta(days=29)
    if start > end:
        raise HTTPException(status_code=422, detail="start must not be after end")
    if (end - start).days >= MAX_DAYS:
        raise HTTPException(status_code=422, detail=f"the range is limited to {MAX_DAYS} days")
    return Filters.between(start, end, channel=channel, intent=intent or None, granularity=granularity)


FiltersDep = Annotated[Filters, Depends(filters)]


def analytics(services: ServicesDep) -> Analytics:
    if services.analytics is None:
        raise HTTPException(status_code=503, detail="the supervisor dashboard is off on this server")
    return services.analytics


AnalyticsDep = Annotated[Analytics, Depends(analytics)]


@router.get("/v1/analytics/figures", responses=ERRORS)
def figure_list(a: AnalyticsDep, staff: Supervisor) -> dict:
    return {"figures": a.figure_ids}


@router.get("/v1/analytics/figures/{figure_id}", responses=ERRORS)
def figure(figure_id: str, f: FiltersDep, a: AnalyticsDep, staff: Supervisor) -> dict:
    """One figure as a table: columns, rows, the key of each row, which columns open conversations, a chart hint."""
    try:
        return a.figure(figure_id, f).to_json()
    except UnknownFigure:
        raise HTTPException(status_code=404, detail=f"unknown figure {figure_id!r}") from None


@router.get("/v1/analytics/figures/{figure_id}/csv", response_class=Response, responses=ERRORS)
def figure_csv(figure_id: str, f: FiltersDep, a: AnalyticsDep, staff: Supervisor) -> Response:
    try:
        table = a.figure(figure_id, f)
    except UnknownFigure:
        raise HTTPException(status_code=404, detail=f"unknown figure {figure_id!r}") from None
    name = f"{figure_id}_{f.start:%Y-%m-%d}_{(f.end - timedelta(days=1)):%Y-%m-%d}.csv"
    return Response(table.to_csv(), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/v1/analytics/drill", responses=ERRORS)
def drill(f: FiltersDep, a: AnalyticsDep, staff: Supervisor, figure: Annotated[str, Query(max_length=40)],
          key: Annotated[str, Query(max_length=300)], column: Annotated[str, Query(max_length=40)],
          limit: Annotated[int, Query(ge=1, le=500)] = 200) -> dict:
    """The ids of the most recent conversations behind one cell (row `key`, column `column`) of a figure."""
    try:
        found = a.drill(figure, f, key, column, limit)
    except UnknownFigure as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    return {"figure": figure, "key": key, "column": column, "conversation_ids": found.conversation_ids,
            "more": found.more}


@router.get("/v1/analytics/conversations", responses=ERRORS)
def conversations(a: AnalyticsDep, staff: Supervisor, ids: Annotated[str, Query(max_length=200 * 40)]) -> dict:
    """Redacted transcripts (messages, hand-off tickets, satisfaction answer) of comma-separated ids, at most 200."""
    wanted = [i.strip() for i in ids.split(",") if i.strip()]
    if not wanted or len(wanted) > 200 or any(len(i) > 64 for i in wanted):
        raise HTTPException(status_code=422, detail="ids: 1 to 200 comma-separated conversation ids")
    return {"conversations": a.transcripts(wanted)}


@router.get("/v1/analytics/gaps", responses=ERRORS)
def gaps(a: AnalyticsDep, staff: GapReader) -> dict:
    """Knowledge gaps, largest first: {"gaps": [{id, name, count, examples, conversation_ids}]}. New questions
    are placed first (a short incremental step, skipped while another refresh runs)."""
    if a.gaps is None:
        return {"gaps": []}
    a.gaps.refresh(wait=False)
    return {"gaps": [g.to_json() for g in a.gaps.list()]}


@router.post("/v1/analytics/gaps/refresh", responses=ERRORS)
def refresh_gaps(a: AnalyticsDep, staff: Supervisor, full: bool = False) -> dict:
    """Read new gap questions now; `full=true` reclusters every question of the window."""
    if a.gaps is None:
        raise HTTPException(status_code=404, detail="knowledge gaps are off (no embedder)")
    done = a.gaps.refresh(full=full)
    return {"added": done.added, "assigned": done.assigned, "reclustered": done.reclustered, "gaps": done.gaps}


@router.get("/console/analytics", include_in_schema=False)
def analytics_page() -> FileResponse:
    return FileResponse(WEB / "console-analytics.html")


@router.get("/console/conversations", include_in_schema=False)
def conversations_page() -> FileResponse:
    return FileResponse(WEB / "console-conversations.html")
