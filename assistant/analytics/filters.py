"""What every dashboard figure is filtered by, and the SQL pieces that differ between SQLite and PostgreSQL.

Times are stored in UTC. On SQLite a DateTime is text ("2026-03-02 14:05:00.000000"), so a day is its first
ten characters; on PostgreSQL it is a timestamptz, truncated in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, DateTime, and_, cast, func, literal, true

Granularity = Literal["day", "week"]
DEFAULT_DAYS = 30


@dataclass(frozen=True, slots=True)
class Filters:
    """A half-open UTC range [start, end) and optional channel and intent.

    Example: Filters.between(date(2026, 3, 1), date(2026, 3, 31)) covers March 1 to 31 inclusive."""

    start: datetime
    end: datetime
    channel: str | None = None
    intent: str | None = None
    granularity: Granularity = "day"

    @classmethod
    def between(cls, first: date, last: date, **kw) -> Filters:
        """From the first day to the last day, both included."""
        start = datetime.combine(first, time(), UTC)
        return cls(start=start, end=datetime.combine(last, time(), UTC) + timedelta(days=1), **kw)

    @classmethod
    def recent(cls, days: int = DEFAULT_DAYS, *, today: date | None = None, **kw) -> Filters:
        last = today or datetime.now(UTC).date()
        return cls.between(last - timedelta(days=days - 1), last, **kw)

    def previous(self) -> Filters:
        """The period of the same length just before this one (rising intents compare the two)."""
        return replace(self, start=self.start - (self.end - self.start), end=self.start)

    def during(self, column) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.end)

    def on_channel(self, column) -> ColumnElement[bool]:
        return column == self.channel if self.channel else true()


def bucket(column, granularity: Granularity, dialect: str):
    """The day ("2026-03-02") or the Monday of the week of a stored time, as text."""
    if dialect == "postgresql":
        utc = func.timezone("UTC", column)
        return func.to_char(func.date_trunc(granularity, utc), "YYYY-MM-DD")
    day = func.substr(column, 1, 10)
    return day if granularity == "day" else func.date(day, "weekday 0", "-6 days")


def day_bucket(day, granularity: Granularity, dialect: str):
    """`bucket` of a stored day ("2026-03-02", text): the day itself or the Monday of its week."""
    if granularity == "day":
        return day
    if dialect == "postgresql":
        return func.to_char(func.date_trunc("week", cast(day, DateTime)), "YYYY-MM-DD")
    return func.date(day, "weekday 0", "-6 days")


def epoch_seconds(column, dialect: str):
    """Seconds since 1970 of a stored time (differences of two give durations on both databases)."""
    if dialect == "postgresql":
        return func.extract("epoch", column)
    return (func.julianday(column) - literal(2440587.5)) * literal(86400.0)
