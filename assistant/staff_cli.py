"""`bankassist staff ...` (alias `agents`): staff accounts and their roles (assistant/auth/roles.py)."""

from __future__ import annotations

import argparse
import sys

from assistant.auth.roles import Role
from assistant.config import Settings


def _agents_add(settings: Settings, args: argparse.Namespace) -> int:
    import getpass

    from assistant.services import build_repositories
    from assistant.storage.agents import AgentExists

    roles = (args.role or ["agent"]) + (["admin"] if args.admin else [])
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
    try:
        staff = build_repositories(settings).agents.add(args.username, password, display_name=args.name, role=roles)
    except AgentExists as exc:
        print(f"error: account {exc} exists", file=sys.stderr)
        return 2
    except ValueError as exc:  # the password policy or an unknown role
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"added {staff.username} ({staff.display_name}) with roles {staff.role}")
    return 0


def _staff_roles(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.services import build_repositories

    try:
        staff = build_repositories(settings).agents.set_roles(args.username, args.role)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if staff is None:
        print(f"error: no account {args.username}", file=sys.stderr)
        return 2
    print(f"{staff.username}: roles {staff.role}")
    return 0


def _staff_list(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.services import build_repositories

    for staff, disabled in build_repositories(settings).agents.all():
        print(f"{staff.username:24s} {staff.role:40s} {'disabled' if disabled else ''}".rstrip())
    return 0


def _agents_manage(settings: Settings, args: argparse.Namespace) -> int:
    """disable / enable / passwd: a disabled agent cannot log in and its live sockets close."""
    import getpass

    from assistant.services import build_repositories

    agents = build_repositories(settings).agents
    try:
        if args.agents_command == "passwd":
            password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("new password: ")
            found = agents.set_password(args.username, password)
        else:
            found = agents.set_disabled(args.username, args.agents_command == "disable")
    except ValueError as exc:  # the password policy
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not found:
        print(f"error: no agent {args.username}", file=sys.stderr)
        return 2
    done = {"passwd": "password changed; sessions ended", "disable": "disabled; sessions ended", "enable": "enabled"}
    print(f"{args.username}: {done[args.agents_command]}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Adds `staff` (alias `agents`) and its commands to the `bankassist` parser."""
    agents = sub.add_parser("staff", aliases=["agents"], help="staff accounts (agents, supervisors, reviewers, "
                            "KB editors and approvers, admins)").add_subparsers(dest="agents_command", required=True)
    role_help = "a role (repeat for several): " + ", ".join(r.value for r in Role)
    p = agents.add_parser("add", help="add an account (password asked, or read from stdin; 12+ characters, not a common one)")
    p.add_argument("username")
    p.add_argument("--name", help="display name shown to customers")
    p.add_argument("--role", action="append", choices=[r.value for r in Role], help=role_help + " (default: agent)")
    p.add_argument("--admin", action="store_true", help="same as --role admin")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=_agents_add)
    p = agents.add_parser("roles", help="replace an account's roles")
    p.add_argument("username")
    p.add_argument("--role", action="append", required=True, choices=[r.value for r in Role], help=role_help)
    p.set_defaults(func=_staff_roles)
    agents.add_parser("list", help="every account with its roles").set_defaults(func=_staff_list)
    for name, text in (("disable", "block an agent's login and end its sessions"), ("enable", "allow a disabled agent again"),
                       ("passwd", "set a new password (asked, or read from stdin); sessions end")):
        p = agents.add_parser(name, help=text)
        p.add_argument("username")
        if name == "passwd":
            p.add_argument("--password-stdin", action="store_true")
        p.set_defaults(func=_agents_manage)
