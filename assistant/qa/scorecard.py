"""The QA scorecard: versioned YAML (assistant/qa/scorecards/NAME-vN.yaml) validated into pydantic models.

A malformed scorecard is refused with the line that is wrong: pydantic's error location
(``items.3.weight``) is walked down the YAML node tree, whose marks carry line numbers, e.g.
``default-v1.yaml line 24 (items.3.weight): Input should be greater than 0``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.config.yaml_files import node_at

SCORECARD_DIR = Path(__file__).resolve().parent / "scorecards"
DEFAULT_SCORECARD = SCORECARD_DIR / "default-v1.yaml"


class Method(StrEnum):
    RULE = "rule"
    EMBEDDING = "embedding"
    LLM = "llm"


class AppliesTo(StrEnum):
    BOT = "bot"
    AGENT = "agent"
    BOTH = "both"

    def covers(self, part: str) -> bool:
        return self is AppliesTo.BOTH or self.value == part


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    title: str = Field(min_length=1, max_length=120)
    description: str = ""
    weight: float = Field(gt=0, le=100)
    applies_to: AppliesTo
    decided_by: Method
    check: str = Field(min_length=1)
    critical: bool = False  # a fail is shown first and puts the conversation in the review queue
    params: dict[str, Any] = Field(default_factory=dict)


class Scorecard(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,40}$")
    version: int = Field(ge=1)
    description: str = ""
    pass_mark: float = Field(default=80, ge=0, le=100)
    items: list[Item] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Scorecard:
        seen: set[str] = set()
        for item in self.items:
            if item.id in seen:
                raise ValueError(f"item id {item.id!r} appears twice")
            seen.add(item.id)
        return self

    @property
    def key(self) -> str:
        """What a stored score names: ``default-v1``."""
        return f"{self.name}-v{self.version}"

    def item(self, item_id: str) -> Item:
        return next(i for i in self.items if i.id == item_id)


class ScorecardError(ValueError):
    """A malformed scorecard; the message names the file and the line."""

    def __init__(self, source: str, line: int | None, where: str, message: str) -> None:
        self.line = line
        at = f" line {line}" if line else ""
        loc = f" ({where})" if where else ""
        super().__init__(f"{source}{at}{loc}: {message}")


def parse_scorecard(text: str, source: str = "<scorecard>", *, known_checks: dict[str, set[Method]] | None = None) -> Scorecard:
    """Validate a scorecard's YAML text; ScorecardError with the line that is wrong.

    `known_checks`: check name -> the methods its decider supports (assistant/qa/deciders); an item
    naming an unknown check, or a method its check cannot do, is refused at its line too."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScorecardError(source, mark.line + 1 if mark else None, "", f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if root is None or not isinstance(data, dict):
        raise ScorecardError(source, 1, "", "a scorecard is a mapping with name, version and items")
    try:
        card = Scorecard.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        node = node_at(root, loc)
        raise ScorecardError(source, node.start_mark.line + 1, ".".join(map(str, loc)), err["msg"]) from None
    for i, item in enumerate(card.items):
        if known_checks is None:
            break
        methods = known_checks.get(item.check)
        problem = (f"unknown check {item.check!r} (one of: {', '.join(sorted(known_checks))})" if methods is None
                   else f"check {item.check!r} is decided by {', '.join(sorted(m.value for m in methods))}, not {item.decided_by.value}"
                   if item.decided_by not in methods else None)
        if problem:
            field = "check" if methods is None else "decided_by"
            node = node_at(root, ("items", i, field))
            raise ScorecardError(source, node.start_mark.line + 1, f"items.{i}.{field}", problem)
    return card


def load_scorecard(path: Path = DEFAULT_SCORECARD, *, known_checks: dict[str, set[Method]] | None = None) -> Scorecard:
    return parse_scorecard(path.read_text(encoding="utf-8"), path.name, known_checks=known_checks)
