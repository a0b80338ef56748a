"""`bankassist qa ...`: score closed conversations now, check a scorecard, set an agent's team."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.config import Settings


def _score(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.qa.scorecard import ScorecardError
    from assistant.qa.setup import build_qa
    from assistant.services import build_embedder, build_repositories

    if args.scorecard:
        settings = settings.changed(qa__scorecard=Path(args.scorecard))
    try:
        qa = build_qa(settings, build_repositories(settings).sessions, None if args.rules_only else build_embedder(settings).encode)
    except ScorecardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.conversation:
        found = [sid for cid in args.conversation if (sid := qa.score_conversation(cid)) is not None]
        print(f"scored {len(found)} of {len(args.conversation)} conversation(s) with {qa.scorer.scorecard.key}")
        return 0 if len(found) == len(args.conversation) else 1
    total = 0
    while n := qa.score_pending(idle_minutes=args.idle_minutes, limit=args.batch):
        total += n
        if args.once:
            break
    print(f"scored {total} closed conversation(s) with {qa.scorer.scorecard.key}")
    return 0


def _check(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.qa.scorecard import ScorecardError
    from assistant.qa.scorer import load_default

    try:
        card = load_default(Path(args.file))
    except (ScorecardError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.file}: {card.key}, {len(card.items)} items, weights {sum(i.weight for i in card.items):g}")
    return 0


def _team(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.qa.store import QaRepository
    from assistant.services import build_repositories

    if not QaRepository(build_repositories(settings).sessions).set_team(args.username, args.team):
        print(f"error: no account {args.username}", file=sys.stderr)
        return 2
    print(f"{args.username}: team {args.team}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    qa = sub.add_parser("qa", help="quality inspection (scorecards, scoring)").add_subparsers(dest="qa_command", required=True)
    p = qa.add_parser("score", help="score closed conversations now (what the API's background worker does)")
    p.add_argument("--idle-minutes", type=float, default=None, help="closed after this long without a message "
                   "(default: BANK_QA__IDLE_MINUTES)")
    p.add_argument("--batch", type=int, default=200)
    p.add_argument("--once", action="store_true", help="one batch only")
    p.add_argument("--conversation", action="append", help="score this conversation (repeat), closed or not")
    p.add_argument("--scorecard", help="scorecard YAML (default: BANK_QA__SCORECARD or the default)")
    p.add_argument("--rules-only", action="store_true", help="no encoder: embedding items decide by their phrases")
    p.set_defaults(func=_score)
    p = qa.add_parser("check", help="validate a scorecard file (the wrong line is named)")
    p.add_argument("file")
    p.set_defaults(func=_check)
    p = qa.add_parser("team", help="set the team an agent reports to")
    p.add_argument("username")
    p.add_argument("team")
    p.set_defaults(func=_team)
