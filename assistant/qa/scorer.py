"""Score a transcript against a scorecard: each item, for each part it applies to, with its evidence."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from assistant.qa.deciders import CHECKS, Outcome, PartView, Tools, known_checks
from assistant.qa.scorecard import DEFAULT_SCORECARD, Scorecard, load_scorecard
from assistant.qa.transcript import PARTS, Part, Transcript

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ItemScore:
    item_id: str
    part: Part
    outcome: Outcome
    weight: float
    critical: bool
    method: str


@dataclass(frozen=True, slots=True)
class ConversationScore:
    conversation_id: str
    scorecard: str
    items: list[ItemScore]

    @property
    def score(self) -> float | None:
        """Weighted share of passes among the items that applied, 0-100 (None: nothing applied)."""
        applied = [i for i in self.items if i.outcome.result != "na"]
        total = sum(i.weight for i in applied)
        if not total:
            return None
        return round(100 * sum(i.weight for i in applied if i.outcome.result == "pass") / total, 1)

    @property
    def critical_fails(self) -> list[ItemScore]:
        return [i for i in self.items if i.critical and i.outcome.result == "fail"]


def load_default(path: Path | None = None) -> Scorecard:
    """A scorecard whose checks exist and can be decided as it says (ScorecardError names the line)."""
    return load_scorecard(path or DEFAULT_SCORECARD, known_checks=known_checks())


class Scorer:
    def __init__(self, scorecard: Scorecard, tools: Tools | None = None) -> None:
        self.scorecard = scorecard
        self.tools = tools or Tools()

    def score(self, transcript: Transcript) -> ConversationScore:
        items = []
        for part in PARTS:
            if not transcript.has_part(part):
                continue
            view = PartView(transcript, part, transcript.part(part))
            for item in self.scorecard.items:
                if not item.applies_to.covers(part):
                    continue
                items.append(ItemScore(item.id, part, self.decide(view, item), item.weight, item.critical,
                                       item.decided_by.value))
        return ConversationScore(transcript.conversation_id, self.scorecard.key, items)

    def decide(self, view: PartView, item) -> Outcome:
        _, decider = CHECKS[item.check]
        try:
            return decider(view, item, self.tools)
        except Exception as exc:  # one broken decider must not lose the other items' scores
            log.exception("qa item %s failed", item.id)
            return Outcome.na(f"decider error: {type(exc).__name__}")
