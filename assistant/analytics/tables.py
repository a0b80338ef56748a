"""A dashboard figure's result: one table (which the page charts and exports as CSV), whose cells link to
the conversations behind them.

A click on cell (row r, column c) asks for the conversations of `keys[r]` in column `c`, when `c` is one of
`drill`. Example: the hand-off reasons table has keys ["explicit request for a human", ...] and drill
["tickets"]: its first bar opens the conversations handed off for that reason.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "count", "rate", "seconds", "score", "number"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    label: str
    kind: Kind = "count"


@dataclass(frozen=True, slots=True)
class Chart:
    """How the page draws the table: a bar or line chart of `series` columns over the `label` column."""

    type: Literal["bar", "line", "none"]
    label: str = ""
    series: tuple[str, ...] = ()
    stacked: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    id: str
    title: str
    columns: tuple[Column, ...]
    rows: list[list]
    keys: list[str]
    drill: tuple[str, ...] = ()
    chart: Chart = field(default_factory=lambda: Chart("none"))
    note: str = ""

    def to_json(self) -> dict:
        return {
            "id": self.id, "title": self.title, "note": self.note,
            "columns": [{"name": c.name, "label": c.label, "kind": c.kind} for c in self.columns],
            "rows": self.rows, "keys": self.keys, "drill": list(self.drill),
            "chart": {"type": self.chart.type, "label": self.chart.label, "series": list(self.chart.series),
                      "stacked": self.chart.stacked},
        }

    def to_csv(self) -> str:
        """The table as CSV; cells that a spreadsheet would run as a formula are quoted with a leading '."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([c.label for c in self.columns])
        for row in self.rows:
            writer.writerow([_cell(v) for v in row])
        return out.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    # A question typed by a customer could start with "=": never let a spreadsheet evaluate it.
    return "'" + text if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def rate(part: int | None, whole: int | None) -> float | None:
    """part / whole rounded to 4 places; None when there is no whole."""
    return round((part or 0) / whole, 4) if whole else None
