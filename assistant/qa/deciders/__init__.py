"""Item deciders by check name (the scorecard's `check`), each with the methods it can decide by."""

from __future__ import annotations

from assistant.qa.deciders import rules, semantic
from assistant.qa.deciders.base import Decider, Outcome, PartView, Tools
from assistant.qa.scorecard import Method

CHECKS: dict[str, tuple[frozenset[Method], Decider]] = {**rules.CHECKS, **semantic.CHECKS}


def known_checks() -> dict[str, set[Method]]:
    return {name: set(methods) for name, (methods, _) in CHECKS.items()}


__all__ = ["CHECKS", "Outcome", "PartView", "Tools", "known_checks"]
