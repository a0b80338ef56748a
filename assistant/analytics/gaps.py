"""Knowledge gaps: customer questions the assistant did not serve, clustered by meaning into named gaps.

A question is a gap question when its reply was "no answer", a clarifying question or a hand-off, or was
rated thumbs-down; requests for a person, greetings and goodbyes are not questions. Each is embedded once
(MiniLM, the vectors the assistant already computes) and kept with its vector. `refresh` is incremental:
new questions join the nearest gap whose centroid is within `assign_similarity`, the rest wait; a full
reclustering (scikit-learn's agglomerative clustering, average linkage over cosine distance) runs when
enough questions wait, when the last one is older than `recluster_hours`, or on request. Gaps keep their
id across reclusterings when their centroid barely moved, so a link to a gap stays valid.
"""

from __future__ import annotations

import builtins
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, overload

import numpy as np
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from assistant.analytics.messages import M, Q
from assistant.config import AnalyticsSettings
from assistant.storage.analytics_tables import AnalyticsMark, GapQuestion, KnowledgeGap
from assistant.storage.models import table_of, utcnow

G, K, MARK = table_of(GapQuestion), table_of(KnowledgeGap), table_of(AnalyticsMark)
NOT_QUESTIONS = ("human_agent", "greeting", "goodbye", "thanks")
UNSERVED_PATHS = {"no_answer": "no_answer", "clarify": "clarify", "handoff": "handoff"}
Embed = Callable[[list[str]], np.ndarray]


_SETTINGS = AnalyticsSettings()  # the defaults of BANK_ANALYTICS__GAP_*


@dataclass(frozen=True, slots=True)
class GapConfig:
    distance: float = _SETTINGS.gap_distance  # average cosine distance under which questions join one cluster
    min_size: int = _SETTINGS.gap_min_size  # questions a cluster needs to be a gap
    assign_similarity: float = 0.6  # cosine to a gap's centroid for a new question to join it
    max_questions: int = 3000  # the most recent questions a full reclustering reads (memory: n^2 / 2 distances)
    window_days: int = 90
    recluster_hours: float = 24.0
    batch: int = 256  # replies read (and questions embedded) per incremental step
    examples: int = 5
    conversations: int = 50


@dataclass(frozen=True, slots=True)
class Gap:
    id: str
    name: str
    count: int
    examples: list[str]
    conversation_ids: list[str]

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "count": self.count, "examples": self.examples,
                "conversation_ids": self.conversation_ids}


@dataclass(frozen=True, slots=True)
class Refreshed:
    added: int
    assigned: int
    reclustered: bool
    gaps: int


def unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return (v / np.where(n == 0, 1, n)).astype(np.float32)


def _question(column):
    """The id, text or intent of the customer message just before a reply."""
    return select(column).where(Q.c.conversation_id == M.c.conversation_id, Q.c.role == "user", Q.c.id < M.c.id) \
        .order_by(Q.c.id.desc()).limit(1).scalar_subquery()


class KnowledgeGaps:
    # The method `list` shadows the builtin in this class body: annotations below it say `builtins.list`.

    def __init__(self, sessions: sessionmaker, embed: Embed, config: GapConfig | None = None) -> None:
        self._sessions, self._engine, self._embed = sessions, sessions.kw["bind"], embed
        self.cfg = config or GapConfig()
        self._lock = threading.Lock()

    # ---- reading

    def list(self, limit: int = 100) -> list[Gap]:
        with self._engine.connect() as c:
            gaps = c.execute(select(K.c.id, K.c.name, K.c.size, K.c.examples).order_by(K.c.size.desc(), K.c.id)
                             .limit(limit)).all()
            ids = [g.id for g in gaps]
            convs: dict[str, list[str]] = {i: [] for i in ids}
            rows = c.execute(select(G.c.gap_id, G.c.conversation_id).where(G.c.gap_id.in_(ids))
                             .order_by(G.c.asked_at.desc())) if ids else []
            for gap_id, cid in rows:
                if len(convs[gap_id]) < self.cfg.conversations and cid not in convs[gap_id]:
                    convs[gap_id].append(cid)
        return [Gap(g.id, g.name, g.size, list(g.examples), convs[g.id]) for g in gaps]

    # ---- refreshing

    @overload
    def refresh(self, *, full: bool = False, wait: Literal[True] = True) -> Refreshed: ...
    @overload
    def refresh(self, *, full: bool = False, wait: bool) -> Refreshed | None: ...

    def refresh(self, *, full: bool = False, wait: bool = True) -> Refreshed | None:
        """Read new gap questions, place them, and recluster when due (or `full`). None when another refresh
        of this process holds the lock and `wait` is False."""
        if not self._lock.acquire(blocking=wait):
            return None
        try:
            added, assigned = self._incremental()
            due = full or self._recluster_due()
            if due:
                self._recluster()
            with self._engine.connect() as c:
                n = c.execute(select(func.count()).select_from(K)).scalar_one()
            return Refreshed(added, assigned, due, n)
        finally:
            self._lock.release()

    def _incremental(self) -> tuple[int, int]:
        with self._engine.connect() as c:
            found, mark = self._candidates(c)
        if found:
            vectors = unit(np.asarray(self._embed([r["text"] for r in found]), dtype=np.float32))
            gap_ids = self._nearest(vectors)
            for row, vec, gap in zip(found, vectors, gap_ids, strict=True):
                row.update(vector=vec.tobytes(), gap_id=gap)
        try:
            with self._sessions.begin() as s:
                conn = s.connection()
                if found:
                    conn.execute(insert(G), found)
                    for gap, n in _counts([r["gap_id"] for r in found if r["gap_id"]]).items():
                        conn.execute(update(K).where(K.c.id == gap).values(size=K.c.size + n))
                _set_mark(conn, "gaps.scan", number=mark)
        except IntegrityError:  # another replica stored these questions first
            return 0, 0
        return len(found), sum(1 for r in found if r["gap_id"])

    def _candidates(self, c: Connection) -> tuple[builtins.list[dict[str, Any]], int]:
        """New unserved replies since the scan mark, and recent thumbs-down ones, as question rows."""
        start = _mark(c, "gaps.scan")[0] or 0
        top = c.execute(select(func.max(M.c.id))).scalar() or 0
        cols = (M.c.id, M.c.path, M.c.feedback, M.c.conversation_id, M.c.created_at, _question(Q.c.id).label("qid"),
                _question(Q.c.text).label("qtext"), _question(Q.c.intent).label("qintent"))
        new = c.execute(select(*cols).where(M.c.id > start, M.c.id <= top, M.c.role == "assistant",
                                            M.c.path.in_(UNSERVED_PATHS)).order_by(M.c.id).limit(self.cfg.batch)).all()
        mark = new[-1].id if len(new) == self.cfg.batch else top
        since = utcnow() - timedelta(days=self.cfg.window_days)
        down = c.execute(select(*cols).where(M.c.feedback == -1, M.c.created_at >= since, M.c.role == "assistant")
                         .order_by(M.c.id.desc()).limit(self.cfg.batch)).all()
        rows, seen = [], set()
        for r in [*new, *down]:
            if r.qid is None or r.qid in seen or r.qintent in NOT_QUESTIONS or len((r.qtext or "").strip()) < 3:
                continue
            seen.add(r.qid)
            reason = "thumbs_down" if r.feedback == -1 else UNSERVED_PATHS.get(r.path, "handoff")
            rows.append({"message_id": r.qid, "conversation_id": r.conversation_id, "text": r.qtext.strip()[:1000],
                         "reason": reason, "asked_at": r.created_at})
        known = set(c.execute(select(G.c.message_id).where(G.c.message_id.in_(list(seen)))).scalars()) if seen else set()
        return [r for r in rows if r["message_id"] not in known], mark

    def _nearest(self, vectors: np.ndarray) -> builtins.list[str | None]:
        with self._engine.connect() as c:
            gaps = c.execute(select(K.c.id, K.c.centroid)).all()
        if not gaps:
            return [None] * len(vectors)
        sims = vectors @ np.stack([np.frombuffer(g.centroid, np.float32) for g in gaps]).T
        best = sims.argmax(axis=1)
        return [gaps[b].id if sims[i, b] >= self.cfg.assign_similarity else None for i, b in enumerate(best)]

    def _recluster_due(self) -> bool:
        with self._engine.connect() as c:
            _, last = _mark(c, "gaps.full")
            since = utcnow() - timedelta(days=self.cfg.window_days)
            waiting = c.execute(select(func.count()).select_from(G).where(G.c.gap_id.is_(None), G.c.asked_at >= since)
                                ).scalar_one()
            placed = c.execute(select(func.count()).select_from(G).where(G.c.gap_id.is_not(None))).scalar_one()
        if waiting < self.cfg.min_size:
            return False
        stale = last is None or _aware(last) < utcnow() - timedelta(hours=self.cfg.recluster_hours)
        return stale or waiting >= max(20, placed // 5)

    def _recluster(self) -> None:
        from assistant.analytics.clusters import build_gaps  # scikit-learn: imported when first needed

        since = utcnow() - timedelta(days=self.cfg.window_days)
        with self._engine.connect() as c:
            rows = c.execute(select(G.c.message_id, G.c.text, G.c.vector).where(G.c.asked_at >= since)
                             .order_by(G.c.asked_at.desc()).limit(self.cfg.max_questions)).all()
            old = {g.id: np.frombuffer(g.centroid, np.float32) for g in c.execute(select(K.c.id, K.c.centroid))}
        vectors = np.stack([np.frombuffer(r.vector, np.float32) for r in rows]) if rows else np.empty((0, 1))
        built = build_gaps([r.text for r in rows], vectors, old, self.cfg, new_id=lambda: "gap-" + uuid.uuid4().hex[:10])
        with self._sessions.begin() as s:
            conn = s.connection()
            conn.execute(delete(K))
            conn.execute(update(G).values(gap_id=None))
            for gap in built:
                conn.execute(insert(K).values(id=gap.id, name=gap.name, centroid=gap.centroid.tobytes(), size=len(gap.members),
                                              examples=gap.examples, updated_at=utcnow()))
                conn.execute(update(G).where(G.c.message_id.in_([rows[i].message_id for i in gap.members]))
                             .values(gap_id=gap.id))
            _set_mark(conn, "gaps.full", at=utcnow())


def _counts(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _mark(c: Connection, name: str) -> tuple[int | None, datetime | None]:
    row = c.execute(select(MARK.c.number, MARK.c.at).where(MARK.c.name == name)).first()
    return (row.number, row.at) if row else (None, None)


def _set_mark(c: Connection, name: str, *, number: int | None = None, at: datetime | None = None) -> None:
    values = {k: v for k, v in (("number", number), ("at", at)) if v is not None}
    if not c.execute(update(MARK).where(MARK.c.name == name).values(**values)).rowcount:
        c.execute(insert(MARK).values(name=name, **values))
