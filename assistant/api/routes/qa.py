"""Quality inspection (/console/qa): the scorecard, the review queue, reviews, the scorer's
agreement with reviewers, and reports (JSON, CSV, PDF). QA reviewers and supervisors only."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field

from assistant.api.deps import RowId, ServicesDep, require_roles
from assistant.auth.roles import Role
from assistant.qa import reports
from assistant.qa.store import ReviewError, Verdict, list_scores
from assistant.storage.agents import AgentView

router = APIRouter(prefix="/v1/qa", tags=["quality inspection"])
Reviewer = Annotated[AgentView, Depends(require_roles(Role.QA_REVIEWER, Role.SUPERVISOR))]
Supervisor = Annotated[AgentView, Depends(require_roles(Role.SUPERVISOR))]
WEEK = r"^\d{4}-W\d{2}$"


class VerdictIn(BaseModel):
    item_result_id: int = Field(ge=1, le=2**31 - 1)
    result: Literal["pass", "fail", "na"]
    note: str | None = Field(default=None, max_length=300)


class ReviewIn(BaseModel):
    verdicts: list[VerdictIn] = Field(min_length=1, max_length=100)


class ScoreNowIn(BaseModel):
    idle_minutes: float = Field(default=0, ge=0, le=10_000)


def _real_week(week: str) -> bool:
    from datetime import date

    try:
        date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    except ValueError:
        return False
    return True


def _qa(services):
    if services.qa is None:
        raise HTTPException(status_code=503, detail="quality inspection is off (BANK_QA__ENABLED=false)")
    return services.qa


@router.get("/scorecard")
def scorecard(services: ServicesDep, staff: Reviewer) -> dict:
    return _qa(services).scorer.scorecard.model_dump(mode="json")


@router.get("/queue")
def queue(services: ServicesDep, staff: Reviewer, limit: int = Query(50, ge=1, le=500)) -> list[dict]:
    return _qa(services).repo.queue(limit)


@router.get("/scores")
def scores(services: ServicesDep, staff: Reviewer, agent: str | None = Query(None, max_length=64),
           team: str | None = Query(None, max_length=64), week: str | None = Query(None, pattern=WEEK),
           item: str | None = Query(None, max_length=48), result: Literal["pass", "fail", "na"] | None = None,
           limit: int = Query(100, ge=1, le=1000)) -> list[dict]:
    if week is not None and not _real_week(week):
        raise HTTPException(status_code=422, detail=f"no ISO week {week}")
    return list_scores(_qa(services).repo.sessions, agent=agent, team=team, week=week, item_id=item, result=result,
                       limit=limit)


@router.get("/scores/{score_id}")
def score(score_id: RowId, services: ServicesDep, staff: Reviewer) -> dict:
    found = _qa(services).repo.detail(score_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"unknown score {score_id}")
    return found


@router.post("/scores/{score_id}/review")
def review(score_id: RowId, body: ReviewIn, services: ServicesDep, staff: Reviewer) -> dict:
    """Confirm (the scorer's result) or override (another result) each item; agreement counts them."""
    try:
        done = _qa(services).repo.review(score_id, [Verdict(v.item_result_id, v.result, v.note) for v in body.verdicts],
                                         staff.username)
    except ReviewError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    if done is None:
        raise HTTPException(status_code=404, detail=f"unknown score {score_id}")
    return done


@router.get("/agreement")
def agreement(services: ServicesDep, staff: Reviewer) -> dict:
    return _qa(services).repo.agreement()


@router.get("/reports")
def report(services: ServicesDep, staff: Reviewer, group: reports.Group = "agent",
           weeks: int = Query(8, ge=1, le=104), format: Literal["json", "csv", "pdf"] = "json"):
    qa = _qa(services)
    rows = reports.report(qa.repo.sessions, group, weeks=weeks, pass_mark=qa.scorer.scorecard.pass_mark)
    if format == "json":
        return rows
    name = f"qa-report-{group}-{weeks}w"
    if format == "csv":
        return Response(reports.to_csv(rows), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    pdf = reports.to_pdf(rows, title=f"Quality report by {group}, last {weeks} weeks ({qa.scorer.scorecard.key})")
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})


@router.post("/score")
async def score_now(body: ScoreNowIn, services: ServicesDep, staff: Supervisor) -> dict:
    """Score the closed conversations now (one batch) instead of waiting for the worker."""
    n = await asyncio.to_thread(_qa(services).score_pending, idle_minutes=body.idle_minutes)
    return {"scored": n}
