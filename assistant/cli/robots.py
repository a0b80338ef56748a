"""`bankassist robots add|revoke` and `robot-client`: lobby robot credentials and the reference client."""

from __future__ import annotations

import argparse
import sys

from assistant.config import Settings


def _robots_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.services import build_repositories

    if not build_repositories(settings).robots.revoke(args.name):
        print(f"error: no robot {args.name}", file=sys.stderr)
        return 2
    print(f"robot {args.name} revoked; its live sessions close at their next check")
    return 0


def _robots_add(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.services import build_repositories
    from assistant.storage.robots import RobotExists

    try:
        robot, token = build_repositories(settings).robots.add(args.name, args.branch)
    except RobotExists:
        print(f"error: robot {args.name} exists", file=sys.stderr)
        return 2
    print(f"robot {robot.name} (branch {robot.branch_id}) token, shown once; store it on the robot:\n{token}")
    return 0


def _robot_client(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.robot_client import run

    return run(args.url, args.token, args.wav, args.save_audio)


def register(sub: argparse._SubParsersAction) -> None:
    robots = sub.add_parser("robots", help="lobby robot credentials").add_subparsers(dest="robots_command", required=True)
    p = robots.add_parser("add", help="register a robot and print its token (stored hashed)")
    p.add_argument("name")
    p.add_argument("--branch", required=True, help="branch id the robot stands in")
    p.set_defaults(func=_robots_add)
    p = robots.add_parser("revoke", help="revoke a robot's token; its live sessions close")
    p.add_argument("name")
    p.set_defaults(func=_robots_revoke)
    p = sub.add_parser("robot-client", help="reference robot client: text from stdin or a WAV file")
    p.add_argument("--url", default="ws://127.0.0.1:8000/v1/robot")
    p.add_argument("--token", required=True)
    p.add_argument("--wav", help="speak this WAV file instead of typing")
    p.add_argument("--save-audio", help="ask for spoken replies and save them to this WAV file")
    p.set_defaults(func=_robot_client)
