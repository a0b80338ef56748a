"""The supervisor dashboard: every figure by id, the conversations behind any cell, their transcripts, and
the knowledge gaps. Reads with SQLAlchemy Core on the assistant's database (SQLite or PostgreSQL)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Select, select
from sqlalchemy.orm import sessionmaker

from assistant.analytics import agents, conversations, csat, messages, outcomes
from assistant.analytics.filters import Filters
from assistant.analytics.gaps import Embed, G, GapConfig, KnowledgeGaps
from assistant.analytics.rollup_refresh import Refresher, refresh
from assistant.analytics.tables import Column, Table
from assistant.analytics.transcripts import transcripts
from assistant.handoff.policy import HandoffPolicy

Figure = Callable[[Connection, Filters], Table]


class UnknownFigure(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Drilled:
    conversation_ids: list[str]
    more: bool  # there are more than the ids returned


class Analytics:
    def __init__(self, sessions: sessionmaker, *, embed: Embed | None = None, low_confidence: float | None = None,
                 gap_config: GapConfig | None = None, rollup_every_s: float | None = None) -> None:
        """`low_confidence`: the hand-off policy's threshold (default: the shipped policy.yaml's).
        `rollup_every_s`: rebuild the daily rollups of dirty days in the background, at most this often, when
        figures are read (None: only on `refresh_rollups`, e.g. `bankassist analytics rollups` from cron)."""
        self._engine = sessions.kw["bind"]
        self._sessions = sessions
        self._refresher = Refresher(sessions, rollup_every_s) if rollup_every_s is not None else None
        if low_confidence is None:
            low_confidence = HandoffPolicy.load().low_confidence_threshold
        self.low_confidence = low_confidence
        self.gaps = KnowledgeGaps(sessions, embed, gap_config) if embed is not None else None
        self._figures: dict[str, Figure] = {
            "overview": conversations.overview, "series": conversations.series, "channels": conversations.channels,
            "handoff_reasons": conversations.handoff_reasons, "routes": messages.routes,
            "intents_top": messages.intents_top, "intents_rising": messages.intents_rising,
            "unanswered_summary": functools.partial(messages.unanswered_summary, low_confidence=low_confidence),
            "unanswered": functools.partial(messages.unanswered, low_confidence=low_confidence),
            "flows": outcomes.flows,
            "csat": csat.csat, "csat_channels": csat.csat_channels, "thumbs_down_docs": outcomes.thumbs_down_docs,
            "agents": agents.agents, "queue": agents.queue,
        }
        if self.gaps is not None:
            self._figures["gaps"] = self._gap_table

    @property
    def figure_ids(self) -> list[str]:
        return list(self._figures)

    def figure(self, figure_id: str, f: Filters) -> Table:
        if figure_id not in self._figures:
            raise UnknownFigure(figure_id)
        if self._refresher is not None:
            self._refresher.soon()
        with self._engine.connect() as c:
            return self._figures[figure_id](c, f)

    def refresh_rollups(self, limit: int | None = None) -> int:
        """Rebuild the daily rollups of the days written since their last rebuild; the number of days."""
        return refresh(self._sessions, limit=limit)

    def drill(self, figure_id: str, f: Filters, key: str, column: str, limit: int = 200) -> Drilled:
        """The most recent conversations behind one cell of a figure (UnknownFigure for a cell no figure has)."""
        q = self._drill_query(figure_id, f, key, column)
        if q is None:
            raise UnknownFigure(f"{figure_id}: no conversations behind {column!r} of {key!r}")
        ids: list[str] = []
        with self._engine.connect() as c:
            result = c.execute(q.order_by(q.selected_columns.at.desc()).execution_options(yield_per=500))
            for cid, _ in result:
                if cid not in ids:
                    ids.append(cid)
                if len(ids) > limit:
                    break
            result.close()
        return Drilled(ids[:limit], len(ids) > limit)

    def _drill_query(self, figure_id: str, f: Filters, key: str, column: str) -> Select | None:
        d = self._engine.dialect.name
        if figure_id == "gaps":
            return select(G.c.conversation_id.label("cid"), G.c.asked_at.label("at")).where(G.c.gap_id == key)
        for found in (conversations.drill(figure_id, f, key, column, d),
                      messages.drill(figure_id, f, key, column, self.low_confidence),
                      outcomes.drill(figure_id, f, key, column), agents.drill(figure_id, f, key, column, d),
                      csat.drill(figure_id, f, key, column)):
            if found is not None:
                return found
        return None

    def transcripts(self, ids: list[str]) -> list[dict]:
        with self._engine.connect() as c:
            return transcripts(c, ids)

    def _gap_table(self, _conn: Connection, _f: Filters) -> Table:
        if self.gaps is None:  # registered only with an embedder; see __init__
            raise UnknownFigure("gaps")
        self.gaps.refresh(wait=False)  # place the newest questions first (skipped while another refresh runs)
        gaps = self.gaps.list()
        rows = [[g.name, g.count, " | ".join(g.examples[:3])] for g in gaps]
        cols = (Column("name", "Gap", "text"), Column("count", "Questions"), Column("examples", "Examples", "text"))
        return Table("gaps", "Knowledge gaps", cols, rows, [g.id for g in gaps], drill=("count", "name"),
                     note="Unanswered, clarified, thumbs-down and handed-off questions of the last "
                          f"{self.gaps.cfg.window_days} days, clustered by meaning (not filtered by the dates above).")
