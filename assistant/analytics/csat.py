"""Customer satisfaction: the survey at the end of a conversation (widget 1-5 and a comment, phone keypad
1-5, robot screen), stored once per conversation, and its figures.

A goodbye from the customer ends the conversation: `asks_survey(reply)` says when a channel asks.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Select, case, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from assistant.analytics.conversations import with_intent
from assistant.analytics.filters import Filters
from assistant.analytics.tables import Chart, Column, Table, rate
from assistant.core.events import Reply
from assistant.i18n import t
from assistant.privacy import redact
from assistant.storage.analytics_tables import CsatResponse
from assistant.storage.models import Conversation, table_of, utcnow

S = table_of(CsatResponse)
MAX_COMMENT = 1000
SCORES = range(1, 6)
QUESTION = t("csat.question")


class AlreadyRated(RuntimeError):
    """This conversation has its satisfaction answer already."""


class UnknownConversation(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class CsatAnswer:
    conversation_id: str
    score: int
    channel: str


def asks_survey(reply: Reply) -> bool:
    """The customer said goodbye: the conversation is over, so each channel asks for its rating."""
    return reply.path == "small_talk" and reply.intent is not None and reply.intent.name == "goodbye"


class CsatRepository:
    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def record(self, conversation_id: str, score: int, comment: str | None = None) -> CsatAnswer:
        """Store the answer (the comment redacted and cut to 1000 characters). ValueError for a score outside
        1-5, UnknownConversation, AlreadyRated for a second answer."""
        if score not in SCORES:
            raise ValueError("score must be 1 to 5")
        text = redact(comment.strip()[:MAX_COMMENT]).text if comment and comment.strip() else None
        try:
            with self._sessions.begin() as s:
                conv = s.get(Conversation, conversation_id)
                if conv is None:
                    raise UnknownConversation(conversation_id)
                s.execute(insert(S).values(conversation_id=conversation_id, channel=conv.channel, score=score,
                                           comment=text, created_at=utcnow()))
                return CsatAnswer(conversation_id, score, conv.channel)
        except IntegrityError:
            raise AlreadyRated(conversation_id) from None

    def answered(self, conversation_id: str) -> bool:
        with self._sessions() as s:
            return s.scalar(select(func.count()).select_from(S).where(S.c.conversation_id == conversation_id)) > 0

    def can_rate(self, conversation_id: str) -> bool:
        """True while the conversation has no answer; UnknownConversation when there is no such conversation."""
        with self._sessions() as s:
            if s.get(Conversation, conversation_id) is None:
                raise UnknownConversation(conversation_id)
        return not self.answered(conversation_id)


def scope(f: Filters) -> list:
    parts = [f.during(S.c.created_at), f.on_channel(S.c.channel)]
    if f.intent:
        parts.append(with_intent(f, S.c.conversation_id))
    return parts


def csat(conn: Connection, f: Filters) -> Table:
    q = select(S.c.score, func.count()).where(*scope(f)).group_by(S.c.score)
    found: dict[int, int] = dict(conn.execute(q).all())
    total = sum(found.values())
    mean = round(sum(s * n for s, n in found.items()) / total, 2) if total else None
    rows = [[s, found.get(s, 0), rate(found.get(s, 0), total)] for s in SCORES]
    cols = (Column("score", "Score", "number"), Column("responses", "Responses"), Column("share", "Share", "rate"))
    note = f"{total} responses, mean {mean}, satisfied (4-5) {rate(found.get(4, 0) + found.get(5, 0), total)}" \
        if total else "No responses in this period."
    return Table("csat", "Customer satisfaction (CSAT)", cols, rows, [str(s) for s in SCORES], drill=("responses",),
                 chart=Chart("bar", "score", ("responses",)), note=note)


def csat_channels(conn: Connection, f: Filters) -> Table:
    satisfied = func.sum(case((S.c.score >= 4, 1), else_=0))
    q = select(S.c.channel, func.count(), func.avg(S.c.score), satisfied).where(*scope(f)).group_by(S.c.channel) \
        .order_by(S.c.channel)
    rows = [[ch, n, round(float(avg), 2), rate(int(sat or 0), n)] for ch, n, avg, sat in conn.execute(q).all()]
    cols = (Column("channel", "Channel", "text"), Column("responses", "Responses"), Column("mean", "Mean score", "score"),
            Column("satisfied", "Satisfied (4-5)", "rate"))
    return Table("csat_channels", "CSAT per channel", cols, rows, [r[0] for r in rows], drill=("responses",),
                 chart=Chart("bar", "channel", ("mean",)))


def drill(figure: str, f: Filters, key: str, column: str) -> Select | None:
    ids = select(S.c.conversation_id.label("cid"), S.c.created_at.label("at"))
    if figure == "csat":
        return ids.where(*scope(f), S.c.score == int(key)) if key.isdigit() else None
    if figure == "csat_channels":
        return ids.where(*scope(f), S.c.channel == key)
    return None
