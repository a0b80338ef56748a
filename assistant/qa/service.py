"""Scores closed conversations in the background and puts the risky ones, plus a random sample,
in the reviewers' queue.

A conversation is closed when the bot holds it (no open hand-off) and nobody has written for
BANK_QA__IDLE_MINUTES. The worker wakes every BANK_QA__INTERVAL_S, scores up to BANK_QA__BATCH of
them in a worker thread (CPU only: rules and the MiniLM encoder), and goes back to sleep. A
conversation that gets new messages later is scored again (unless a reviewer already started on it).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import timedelta

from assistant.config import QaSettings
from assistant.nlu.sentiment import LexiconSentiment
from assistant.qa.deciders.semantic import COMPLAINT
from assistant.qa.scorer import ConversationScore, Scorer
from assistant.qa.store import QaRepository, aware
from assistant.qa.transcript import Transcript
from assistant.storage.models import utcnow

log = logging.getLogger(__name__)


def risk_reasons(t: Transcript, scored: ConversationScore, *, pass_mark: float, long_wait_minutes: float,
                 rng: random.Random, random_rate: float) -> list[str]:
    """Why a conversation goes to a reviewer: low score, a critical fail, a complaint, negative
    sentiment, a long wait for a person; or the random sample (so the queue also sees the ordinary)."""
    reasons = []
    if scored.score is not None and scored.score < pass_mark:
        reasons.append("low_score")
    if scored.critical_fails:
        reasons.append("critical_fail")
    said = [m.text for m in t.messages if m.role == "user"]
    if any(COMPLAINT.search(x) for x in said):
        reasons.append("complaint")
    sentiment = LexiconSentiment()
    if any(sentiment.analyze(x).label == "negative" for x in said):
        reasons.append("negative_sentiment")
    ticket = t.handoff
    if ticket is not None and ticket.created_at is not None:
        until = ticket.claimed_at or ticket.closed_at
        if until is None or aware(until) - aware(ticket.created_at) > timedelta(minutes=long_wait_minutes):
            reasons.append("long_wait")
    if rng.random() < random_rate:
        reasons.append("random")
    return reasons


class QaService:
    def __init__(self, repo: QaRepository, scorer: Scorer, settings: QaSettings | None = None, *,
                 before_batch: Callable[[], None] | None = None) -> None:
        self.repo, self.scorer = repo, scorer
        self.settings = settings or QaSettings()
        self.before_batch = before_batch  # e.g. re-read the knowledge base the figure check reads
        self.rng = random.Random(self.settings.seed)

    def score_conversation(self, conversation_id: str) -> int | None:
        t = self.repo.transcript(conversation_id)
        if t is None:
            return None
        scored = self.scorer.score(t)
        risk = risk_reasons(t, scored, pass_mark=self.scorer.scorecard.pass_mark,
                            long_wait_minutes=self.settings.long_wait_minutes, rng=self.rng,
                            random_rate=self.settings.random_rate)
        return self.repo.save(t, scored, risk)

    def score_pending(self, *, idle_minutes: float | None = None, limit: int | None = None) -> int:
        """Score the closed, unscored conversations (one batch); returns how many."""
        idle = self.settings.idle_minutes if idle_minutes is None else idle_minutes
        ids = self.repo.pending(self.scorer.scorecard.key, utcnow() - timedelta(minutes=idle), limit or self.settings.batch)
        if ids and self.before_batch is not None:
            self.before_batch()
        for cid in ids:
            self.score_conversation(cid)
        return len(ids)

    async def run_forever(self) -> None:
        """The background worker the app starts: a failing batch is logged and retried next time."""
        while True:
            try:
                n = await asyncio.to_thread(self.score_pending)
                if n:
                    log.info("qa: scored %d closed conversation(s)", n)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("qa: scoring batch failed")
            await asyncio.sleep(self.settings.interval_s)
