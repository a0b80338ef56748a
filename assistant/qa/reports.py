"""QA reports per agent, team or week: conversations, mean score, share under the pass mark,
critical fails, the weekly trend and the worst items; as rows, CSV and PDF (fpdf2).

Every row carries the filter that lists its conversations (GET /v1/qa/scores?agent=...&week=...),
so a number in a report leads to the conversations behind it.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from assistant.qa.models import QaItemResult, QaScore
from assistant.qa.store import aware
from assistant.storage.models import utcnow

Group = Literal["agent", "team", "week"]
BOT = "assistant (bot)"


def week_of(t: datetime) -> str:
    """ISO week: 2026-W11."""
    year, week, _ = aware(t).isocalendar()
    return f"{year}-W{week:02d}"


def _key(group: Group, s: QaScore) -> str:
    if group == "week":
        return week_of(s.closed_at)
    if group == "agent":
        return s.agent or BOT
    return s.team or ("bot" if s.agent is None else "no team")


def report(sessions: sessionmaker, group: Group, *, weeks: int = 8, pass_mark: float = 80,
           now: datetime | None = None) -> list[dict]:
    since = (now or utcnow()) - timedelta(weeks=weeks)
    with sessions() as s:
        scores = s.scalars(select(QaScore).where(QaScore.closed_at >= since)).all()
        items = s.execute(select(QaItemResult.score_id, QaItemResult.item_id, QaItemResult.part,
                                 QaItemResult.result, QaItemResult.review_result, QaItemResult.critical)
                          .join(QaScore, QaScore.id == QaItemResult.score_id).where(QaScore.closed_at >= since)).all()
    by_score = {sc.id: sc for sc in scores}
    groups: dict[str, list[QaScore]] = defaultdict(list)
    for sc in scores:
        groups[_key(group, sc)].append(sc)
    tallies: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    critical: dict[str, int] = defaultdict(int)
    for score_id, item_id, _part, result, review, is_critical in items:
        final = review or result  # a reviewer's verdict wins
        if final == "na":
            continue
        key = _key(group, by_score[score_id])
        tallies[key][item_id][0 if final == "pass" else 1] += 1
        critical[key] += int(is_critical and final == "fail")
    return [_row(group, key, groups[key], tallies[key], critical[key], pass_mark) for key in sorted(groups)]


def _row(group: Group, key: str, scores: list[QaScore], tally: dict, critical: int, pass_mark: float) -> dict:
    valued = [s.score for s in scores if s.score is not None]
    weekly: dict[str, list[float]] = defaultdict(list)
    for s in scores:
        if s.score is not None:
            weekly[week_of(s.closed_at)].append(s.score)
    worst = sorted(((fails / (passes + fails), item, fails) for item, (passes, fails) in tally.items() if fails),
                   reverse=True)[:3]
    return {
        "group": group, "key": key, "conversations": len(scores),
        "mean_score": round(sum(valued) / len(valued), 1) if valued else None,
        "under_pass_mark": sum(1 for v in valued if v < pass_mark),
        "critical_fails": critical,
        "trend": [{"week": w, "mean_score": round(sum(v) / len(v), 1), "conversations": len(v)}
                  for w, v in sorted(weekly.items())],
        "worst_items": [{"item_id": item, "fail_rate": round(rate, 3), "fails": fails} for rate, item, fails in worst],
        "filter": {group: key},
    }


COLUMNS = ("group", "key", "conversations", "mean_score", "under_pass_mark", "critical_fails", "trend", "worst_items")


def _flat(row: dict) -> list[str]:
    trend = " ".join(f"{t['week']}:{t['mean_score']}" for t in row["trend"])
    worst = "; ".join(f"{w['item_id']} {w['fails']} fails ({w['fail_rate']:.0%})" for w in row["worst_items"])
    return [row["group"], row["key"], str(row["conversations"]), "" if row["mean_score"] is None else str(row["mean_score"]),
            str(row["under_pass_mark"]), str(row["critical_fails"]), trend, worst]


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([_safe_cell(c) for c in _flat(r)])
    return out.getvalue()


def _safe_cell(value: str) -> str:
    """No spreadsheet formulas from stored names: '=cmd' -> "'=cmd"."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") and not value[1:2].isdigit() else value


def to_pdf(rows: list[dict], *, title: str, generated: datetime | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", format="A4")
    pdf.set_title(title)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.cell(0, 6, f"Generated {(generated or utcnow()):%Y-%m-%d %H:%M} UTC. A reviewer's verdict replaces the scorer's.",
             new_x="LMARGIN", new_y="NEXT")
    widths = (30, 16, 22, 22, 22, 75, 90)
    heads = ("Group", "Convs", "Mean score", "Under pass", "Critical", "Trend (week: mean)", "Worst items")
    with pdf.table(col_widths=widths, text_align="LEFT", first_row_as_headings=True) as table:
        table.row(heads)
        for r in rows:
            flat = _flat(r)
            table.row([flat[1], flat[2], flat[3], flat[4], flat[5], flat[6], flat[7]])
    return bytes(pdf.output())
