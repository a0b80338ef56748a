"""Staff roles: what each staff account may see and do.

A staff account holds one or more roles, stored comma-separated (``"agent,qa_reviewer"``).
``admin`` holds every permission. Routes declare the roles they accept with
``api.deps.require_roles``; anyone else gets 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"  # the agent console: queue, claim, reply, close
    SUPERVISOR = "supervisor"  # analytics, every ticket, QA reports
    QA_REVIEWER = "qa_reviewer"  # the review queue: confirm or override scorecard items
    KB_EDITOR = "kb_editor"  # draft and submit knowledge-base entries
    KB_APPROVER = "kb_approver"  # publish drafts, regulation documents included, and roll back
    ADMIN = "admin"  # everything


class UnknownRole(ValueError):
    pass


def parse_roles(values: str | Iterable[str]) -> frozenset[Role]:
    """Roles from a stored ``"a,b"`` string or a list; UnknownRole names the bad one."""
    items = values.split(",") if isinstance(values, str) else list(values)
    roles = set()
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            roles.add(Role(item))
        except ValueError:
            raise UnknownRole(f"unknown role {item!r} (one of: {', '.join(r.value for r in Role)})") from None
    if not roles:
        raise UnknownRole("at least one role is required")
    return frozenset(roles)


def format_roles(roles: Iterable[Role]) -> str:
    return ",".join(sorted(r.value for r in roles))


def allows(held: frozenset[Role], accepted: Iterable[Role]) -> bool:
    return Role.ADMIN in held or not held.isdisjoint(accepted)
