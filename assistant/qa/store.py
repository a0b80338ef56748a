"""Quality-inspection storage: which conversations are closed and unscored, scores with their
evidence, the review queue, reviewers' verdicts and the scorer's agreement with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import overload

from sqlalchemy import Integer, and_, delete, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.qa.models import QaItemResult, QaScore, QaTeam
from assistant.qa.scorer import ConversationScore
from assistant.qa.transcript import Transcript, load_transcript
from assistant.storage.models import Agent, Conversation, Message, utcnow

RESULTS = ("pass", "fail", "na")


class ReviewError(ValueError):
    """A verdict for an item not in this score, or not pass/fail/na."""


@dataclass(frozen=True, slots=True)
class Verdict:
    item_result_id: int
    result: str
    note: str | None = None


@overload
def aware(t: datetime) -> datetime: ...
@overload
def aware(t: None) -> None: ...
@overload
def aware(t: datetime | None) -> datetime | None: ...
def aware(t: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes that were stored as UTC."""
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


def score_row(s: QaScore) -> dict:
    return {"id": s.id, "conversation_id": s.conversation_id, "scorecard": s.scorecard, "score": s.score,
            "channel": s.channel, "agent": s.agent, "team": s.team, "closed_at": aware(s.closed_at),
            "scored_at": aware(s.scored_at), "risk": list(s.risk or []), "reviewed_at": aware(s.reviewed_at),
            "reviewer": s.reviewer}


def item_row(r: QaItemResult) -> dict:
    return {"id": r.id, "item_id": r.item_id, "part": r.part, "result": r.result, "method": r.method,
            "weight": r.weight, "critical": r.critical, "message_id": r.message_id, "span": (
                [r.span_start, r.span_end] if r.span_start is not None else None), "note": r.note,
            "confidence": r.confidence, "review_result": r.review_result, "reviewer": r.reviewer,
            "reviewed_at": aware(r.reviewed_at), "review_note": r.review_note}


class QaRepository:
    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    @property
    def sessions(self) -> sessionmaker:
        return self._sessions

    def pending(self, scorecard: str, idle_before: datetime, limit: int = 50) -> list[str]:
        """Closed conversations not scored since their last message: the bot holds them again (no
        open hand-off) and nothing was said after `idle_before`."""
        last = (select(Message.conversation_id, func.max(Message.id).label("last_id"),
                       func.max(Message.created_at).label("last_at"))
                .group_by(Message.conversation_id).subquery())
        scored = exists().where(and_(QaScore.conversation_id == last.c.conversation_id, QaScore.scorecard == scorecard,
                                     QaScore.last_message_id >= last.c.last_id))
        q = (select(last.c.conversation_id).join(Conversation, Conversation.id == last.c.conversation_id)
             .where(Conversation.status == "bot", last.c.last_at < idle_before, ~scored)
             .order_by(last.c.last_at).limit(limit))
        with self._sessions() as s:
            return list(s.scalars(q))

    def transcript(self, conversation_id: str) -> Transcript | None:
        with self._sessions() as s:
            return load_transcript(s, conversation_id)

    def team_of(self, s: Session, agent_id: int | None) -> str | None:
        row = s.get(QaTeam, agent_id) if agent_id is not None else None
        return row.team if row else None

    def save(self, t: Transcript, scored: ConversationScore, risk: list[str]) -> int:
        """Store (or replace, unless a reviewer has started on it) a conversation's score."""
        ticket = t.handoff
        with self._sessions.begin() as s:
            old = s.scalars(select(QaScore).where(QaScore.conversation_id == t.conversation_id,
                                                  QaScore.scorecard == scored.scorecard)).first()
            if old is not None and old.reviewed_at is not None:
                return old.id
            if old is not None:
                s.delete(old)
                s.flush()
            row = QaScore(conversation_id=t.conversation_id, scorecard=scored.scorecard, score=scored.score,
                          channel=t.channel, agent=ticket.agent if ticket else None,
                          team=self.team_of(s, ticket.agent_id if ticket else None),
                          closed_at=max((m.at for m in t.messages if m.at), default=utcnow()),
                          last_message_id=max((m.id for m in t.messages), default=0), risk=risk)
            s.add(row)
            s.flush()
            s.add_all(QaItemResult(score_id=row.id, item_id=i.item_id, part=i.part, result=i.outcome.result,
                                   method=i.method, weight=i.weight, critical=i.critical,
                                   message_id=i.outcome.message_id, span_start=i.outcome.start,
                                   span_end=i.outcome.end, note=i.outcome.note[:200], confidence=i.outcome.confidence)
                      for i in scored.items)
            return row.id

    def queue(self, limit: int = 50) -> list[dict]:
        """Unreviewed scores that risk put in the queue: critical fails first, then the lowest scores."""
        with self._sessions() as s:
            rows = s.scalars(select(QaScore).where(QaScore.reviewed_at.is_(None)).order_by(QaScore.id)).all()
        queued = [score_row(r) for r in rows if r.risk]
        queued.sort(key=lambda r: ("critical_fail" not in r["risk"], r["score"] if r["score"] is not None else 101))
        return queued[:limit]

    def detail(self, score_id: int) -> dict | None:
        with self._sessions() as s:
            row = s.get(QaScore, score_id)
            if row is None:
                return None
            items = s.scalars(select(QaItemResult).where(QaItemResult.score_id == score_id).order_by(QaItemResult.id)).all()
            t = load_transcript(s, row.conversation_id)
            return {**score_row(row), "items": [item_row(i) for i in items],
                    "messages": [m.model_dump(mode="json", include={"id", "role", "part", "text", "at", "path"})
                                 for m in (t.messages if t else [])]}

    def review(self, score_id: int, verdicts: list[Verdict], reviewer: str) -> dict | None:
        """Confirm (same result) or override each item; the score is reviewed once every item has a verdict."""
        now = utcnow()
        with self._sessions.begin() as s:
            row = s.get(QaScore, score_id)
            if row is None:
                return None
            items = {i.id: i for i in s.scalars(select(QaItemResult).where(QaItemResult.score_id == score_id))}
            for v in verdicts:
                if v.item_result_id not in items:
                    raise ReviewError(f"item result {v.item_result_id} is not part of score {score_id}")
                if v.result not in RESULTS:
                    raise ReviewError(f"result must be one of {', '.join(RESULTS)}")
                item = items[v.item_result_id]
                item.review_result, item.reviewer, item.reviewed_at = v.result, reviewer, now
                item.review_note = (v.note or None) and v.note[:300]
            if all(i.review_result is not None for i in items.values()):
                row.reviewed_at, row.reviewer = now, reviewer
        return self.detail(score_id)

    def agreement(self) -> dict:
        """How often reviewers kept the scorer's result: overall and per item (reviewed items only)."""
        q = (select(QaItemResult.item_id, QaItemResult.part, func.count(),
                    func.sum((QaItemResult.review_result == QaItemResult.result).cast(Integer)))
             .where(QaItemResult.review_result.is_not(None)).group_by(QaItemResult.item_id, QaItemResult.part))
        with self._sessions() as s:
            rows = s.execute(q).all()
        per = [{"item_id": i, "part": p, "reviewed": n, "agreed": int(a or 0), "rate": round(int(a or 0) / n, 4)}
               for i, p, n, a in rows]
        n = sum(r["reviewed"] for r in per)
        a = sum(r["agreed"] for r in per)
        return {"reviewed": n, "agreed": a, "rate": round(a / n, 4) if n else None,
                "items": sorted(per, key=lambda r: (r["rate"], r["item_id"]))}

    def set_team(self, username: str, team: str) -> bool:
        with self._sessions.begin() as s:
            agent = s.scalars(select(Agent).where(Agent.username == username)).first()
            if agent is None:
                return False
            s.execute(delete(QaTeam).where(QaTeam.agent_id == agent.id))
            s.add(QaTeam(agent_id=agent.id, team=team))
            return True



def list_scores(sessions: sessionmaker, *, agent: str | None = None, team: str | None = None, week: str | None = None,
                item_id: str | None = None, result: str | None = None, limit: int = 100) -> list[dict]:
    """The conversations behind a report's number: `agent` ("assistant (bot)" = bot only), `team`,
    ISO `week` (2026-W11), and conversations where `item_id` ended `result` (a reviewer's verdict wins)."""
    q = select(QaScore).order_by(QaScore.closed_at.desc())
    if agent is not None:
        q = q.where(QaScore.agent.is_(None) if agent == "assistant (bot)" else QaScore.agent == agent)
    if team is not None:
        q = q.where(QaScore.team == team)
    if week is not None:
        start = datetime.fromisocalendar(int(week[:4]), int(week[6:]), 1).replace(tzinfo=UTC)
        q = q.where(QaScore.closed_at >= start, QaScore.closed_at < start + timedelta(days=7))
    if item_id is not None:
        final = func.coalesce(QaItemResult.review_result, QaItemResult.result)
        hit = select(QaItemResult.score_id).where(QaItemResult.item_id == item_id)
        q = q.where(QaScore.id.in_(hit.where(final == result) if result else hit))
    with sessions() as s:
        return [score_row(r) for r in s.scalars(q.limit(limit))]
