"""`bankassist analytics ...`: refresh the knowledge gaps and the daily rollups (run them from cron) and print any
figure as CSV."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import TYPE_CHECKING

from assistant.config import Settings

if TYPE_CHECKING:
    from assistant.analytics import Analytics


def _analytics(settings: Settings, embed: bool) -> Analytics:
    from assistant.analytics import Analytics, GapConfig
    from assistant.handoff.policy import HandoffPolicy
    from assistant.services import build_embedder, build_repositories

    encode = build_embedder(settings).encode if embed else None
    gaps = GapConfig(distance=settings.analytics.gap_distance, min_size=settings.analytics.gap_min_size)
    return Analytics(build_repositories(settings).sessions, embed=encode, gap_config=gaps,
                     low_confidence=HandoffPolicy.load(settings.handoff.policy).low_confidence_threshold)


def _gaps(settings: Settings, args: argparse.Namespace) -> int:
    gaps = _analytics(settings, embed=True).gaps
    if gaps is None:  # Analytics builds them whenever it has an embedder
        print("error: knowledge gaps need the embedder", file=sys.stderr)
        return 2
    total = 0
    while True:  # each step reads at most one batch of new questions
        done = gaps.refresh(full=args.full and total == 0)
        total += done.added
        if done.added == 0:
            break
    print(f"knowledge gaps: {done.gaps} ({total} new questions read)")
    for g in gaps.list(limit=args.top):
        print(f"  {g.count:5d}  {g.name}  (e.g. {g.examples[0]!r})")
    return 0


def _rollups(settings: Settings, args: argparse.Namespace) -> int:
    print(f"analytics rollups: {_analytics(settings, embed=False).refresh_rollups()} day(s) rebuilt")
    return 0


def _figure(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.analytics import Filters, UnknownFigure

    f = Filters.between(args.start, args.end, channel=args.channel, intent=args.intent, granularity=args.per) \
        if args.start and args.end else Filters.recent(args.days, channel=args.channel, intent=args.intent,
                                                       granularity=args.per)
    try:
        sys.stdout.write(_analytics(settings, embed=False).figure(args.figure, f).to_csv())
    except UnknownFigure:
        print(f"error: unknown figure {args.figure!r}", file=sys.stderr)
        return 2
    return 0


def register(sub) -> None:
    analytics = sub.add_parser("analytics", help="supervisor analytics (docs/analytics.md)") \
        .add_subparsers(dest="analytics_command", required=True)
    p = analytics.add_parser("gaps", help="read new unserved questions into knowledge gaps and list the largest")
    p.add_argument("--full", action="store_true", help="recluster every question of the window")
    p.add_argument("--top", type=int, default=10)
    p.set_defaults(func=_gaps)
    p = analytics.add_parser("rollups", help="rebuild the daily rollups of the days written since the last rebuild")
    p.set_defaults(func=_rollups)
    p = analytics.add_parser("figure", help="one dashboard figure as CSV on stdout")
    p.add_argument("figure", help="overview, series, channels, handoff_reasons, routes, intents_top, ...")
    p.add_argument("--start", type=date.fromisoformat)
    p.add_argument("--end", type=date.fromisoformat)
    p.add_argument("--days", type=int, default=30, help="the last N days (without --start/--end)")
    p.add_argument("--channel")
    p.add_argument("--intent")
    p.add_argument("--per", choices=("day", "week"), default="day")
    p.set_defaults(func=_figure)
