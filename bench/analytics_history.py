"""Synthetic stored history for bench/analytics_queries.py: conversations, messages, hand-off tickets and
satisfaction answers with realistic mixes, written in bulk (SQLite executemany, PostgreSQL COPY).

Mixes (per conversation unless said): channel web 55 %, phone 25 %, robot 12 %, API 8 %; 2 % of phone calls
silent; 1 + Poisson(4.15) customer turns; intents Zipf-distributed over 80 names, two of them rising over the
last 30 days; replies FAQ 38 %, quoted 20 %, generated 20 %, clarify 6 %, no answer 4 %, refused 4 %,
small talk 6 %, declined 2 %, flow when in a flow (9 % of conversations: completed 60 %, cancelled 10 %,
failed 5 %, handed off 5 %, abandoned 20 %); 12 % handed off (85 % claimed: wait log-normal around 90 s,
handling around 6 min; the rest cancelled in the queue); 4 % of replies rated (30 % thumbs down); 20 %
answer the survey. Arrivals grow 50 % over the period.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

CHANNELS = (["web", "voice", "robot", "api"], [0.55, 0.25, 0.12, 0.08])
INTENTS = [f"intent_{i:02d}" for i in range(80)]
RISING = ("intent_41", "intent_57")
PATHS = (["faq", "extractive", "generated", "clarify", "no_answer", "refused", "small_talk", "declined"],
         [0.38, 0.20, 0.20, 0.06, 0.04, 0.04, 0.06, 0.02])
FLOWS = ["transfer", "check_balance", "freeze_card", "report_lost_card", "dispute_transaction", "card_delivery"]
FLOW_ENDS = (["completed", "cancelled", "failed", "handoff", "abandoned"], [0.60, 0.10, 0.05, 0.05, 0.20])
REASONS = (["explicit request for a human", "complaint with negative sentiment", "customer frustration",
            "action the assistant cannot perform: cancel_transfer", "caller pressed 0 for an agent"],
           [0.45, 0.2, 0.15, 0.12, 0.08])
DOCS = [f"doc-{i:02d}" for i in range(60)]
REPLY = ("Here is what our information says about that: the fee is waived when the balance stays above the "
         "minimum for the whole statement cycle, and you can check it any time in online banking. ")


@dataclass
class Batch:
    conversations: list[tuple] = field(default_factory=list)
    messages: list[tuple] = field(default_factory=list)
    tickets: list[tuple] = field(default_factory=list)
    csat: list[tuple] = field(default_factory=list)


def _zipf(n: int) -> np.ndarray:
    w = 1 / np.arange(1, n + 1) ** 1.1
    return w / w.sum()


class History:
    def __init__(self, *, conversations: int, days: int, end: datetime, agents: list[int], seed: int = 27) -> None:
        self.n, self.days, self.end, self.agents = conversations, days, end, agents
        self.rng = np.random.default_rng(seed)
        self.intent_p = _zipf(len(INTENTS))

    def batches(self, size: int = 5000) -> Iterator[Batch]:
        done = 0
        while done < self.n:
            batch = Batch()
            for _ in range(min(size, self.n - done)):
                self._conversation(batch)
            self.survey(batch)
            done += min(size, self.n - done)
            yield batch

    def _start(self) -> datetime:
        # arrivals grow 50 % over the period: density 1 + 0.5 x on [0, 1]; inverse CDF sampling
        u = self.rng.random()
        x = (-1 + np.sqrt(1 + 2 * 0.5 * u * 1.25)) / 0.5
        return self.end - timedelta(days=self.days * (1 - x))

    def _intent(self, at: datetime) -> str:
        if (self.end - at).days < 30 and self.rng.random() < 0.04:
            return RISING[int(self.rng.integers(2))]
        return INTENTS[int(self.rng.choice(len(INTENTS), p=self.intent_p))]

    def _conversation(self, b: Batch) -> None:
        rng = self.rng
        cid, channel, t = str(uuid.uuid4()), str(rng.choice(CHANNELS[0], p=CHANNELS[1])), self._start()
        if channel == "voice" and rng.random() < 0.02:
            b.conversations.append((cid, channel, "bot", t, t, None, None))
            return  # a silent call
        first = len(b.messages)
        self._turns(b, cid, channel, t)
        handed = b.tickets[-1][5] if b.tickets and b.tickets[-1][0] == cid else None
        b.conversations.append((cid, channel, "bot", t, b.messages[-1][4], b.messages[first][4], handed))

    def _turns(self, b: Batch, cid: str, channel: str, t: datetime) -> None:
        rng = self.rng
        turns = 1 + int(rng.poisson(4.15))
        main = self._intent(t)
        flow = FLOWS[int(rng.integers(len(FLOWS)))] if rng.random() < 0.09 else None
        end = str(rng.choice(FLOW_ENDS[0], p=FLOW_ENDS[1])) if flow else None
        handoff_at = int(rng.integers(turns)) if rng.random() < 0.12 else None
        for turn in range(turns):
            intent = main if rng.random() < 0.7 else self._intent(t)
            conf = float(rng.beta(5, 2))
            t += timedelta(seconds=float(rng.uniform(5, 40)))
            b.messages.append((cid, "user", f"question {turn} about {intent.replace('_', ' ')} and my account", channel, t,
                               None, intent, conf, None, None, None, None, None))
            t += timedelta(seconds=float(rng.uniform(0.5, 3)))
            if handoff_at == turn:
                b.messages.append((cid, "assistant", "Connecting you with an agent.", channel, t, "handoff", intent, conf,
                                   None, None, "knowledge", None, None))
                self._ticket(b, cid, channel, t)
                return
            b.messages.append(self._reply(cid, channel, t, intent, conf, turn, turns, flow, end))

    def _reply(self, cid, channel, t, intent, conf, turn, turns, flow, end) -> tuple:
        rng = self.rng
        route, outcome = "knowledge", None
        if flow and turn < 3:
            path, route = "flow", ("flow_start", "slot_fill", "confirm")[turn]
            if end != "abandoned" and (turn == 2 or turn == turns - 1):
                outcome = end
        else:
            path = str(rng.choice(PATHS[0], p=PATHS[1]))
        cites = None
        if path in ("faq", "extractive", "generated"):
            docs = rng.choice(DOCS, size=int(rng.integers(1, 3)), replace=False)
            cites = json.dumps([{"doc_id": str(d), "title": f"Title of {d}", "section": ""} for d in docs])
        feedback = (-1 if rng.random() < 0.3 else 1) if rng.random() < 0.04 else None
        return (cid, "assistant", REPLY, channel, t, path, intent, conf, cites, feedback, route,
                flow if path == "flow" else None, outcome if path == "flow" else None)

    def _ticket(self, b: Batch, cid: str, channel: str, t: datetime) -> None:
        rng = self.rng
        reason = str(rng.choice(REASONS[0], p=REASONS[1]))
        if rng.random() < 0.85:
            claimed = t + timedelta(seconds=float(rng.lognormal(np.log(90), 0.8)))
            closed = claimed + timedelta(seconds=float(rng.lognormal(np.log(360), 0.6)))
            agent = self.agents[int(rng.integers(len(self.agents)))]
            b.tickets.append((cid, "closed", reason, channel, "", t, agent, claimed, closed, "resolved"))
            for k in range(int(rng.integers(2, 5))):
                b.messages.append((cid, "agent", "Let me check that for you.", channel, claimed + timedelta(seconds=30 * (k + 1)),
                                   None, None, None, None, None, None, None, None))
        else:
            closed = t + timedelta(seconds=float(rng.lognormal(np.log(120), 0.5)))
            b.tickets.append((cid, "cancelled", reason, channel, "", t, None, None, closed, "customer_cancelled"))
        if rng.random() < 0.2:
            b.csat.append((cid, channel, int(rng.choice(5, p=[0.08, 0.07, 0.15, 0.3, 0.4])) + 1, None, t))

    def survey(self, b: Batch) -> None:
        """Answers for a fifth of the batch's bot-only conversations."""
        handed = {t[0] for t in b.tickets}
        last: dict[str, tuple] = {}
        for m in b.messages:
            last[m[0]] = m
        for cid, m in last.items():
            if cid not in handed and self.rng.random() < 0.2:
                b.csat.append((cid, m[3], int(self.rng.choice(5, p=[0.05, 0.05, 0.1, 0.3, 0.5])) + 1, None, m[4]))


MESSAGE_COLUMNS = ("conversation_id", "role", "text", "channel", "created_at", "path", "intent", "intent_confidence",
                   "citations", "feedback", "route", "flow", "flow_outcome")
CONVERSATION_COLUMNS = ("id", "channel", "status", "created_at", "updated_at", "first_user_at", "handed_off_at")
TICKET_COLUMNS = ("conversation_id", "status", "reason", "channel", "summary", "created_at", "claimed_by", "claimed_at",
                  "closed_at", "resolution")
CSAT_COLUMNS = ("conversation_id", "channel", "score", "comment", "created_at")


def end_of_today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
