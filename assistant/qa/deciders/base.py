"""What every item decider takes and returns.

A decider reads one part (bot or agent) of a transcript and returns an `Outcome`: pass, fail or
n/a, with the evidence that decided it: a message id and a character span of that message's text.
Example: no_secret_request fails on message 812, span (0, 58), "To find the card I need the full
16 digit card number ...".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import re2

from assistant.core.regex import Regex
from assistant.qa.scorecard import Item
from assistant.qa.transcript import Part, QaMessage, Transcript

Result = Literal["pass", "fail", "na"]
RESULTS: tuple[Result, ...] = ("pass", "fail", "na")


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    message_id: int | None = None
    start: int | None = None
    end: int | None = None
    note: str = ""
    confidence: float | None = None  # the classifier's margin or the judge's; None for rules

    @classmethod
    def na(cls, note: str = "") -> Outcome:
        return cls("na", note=note)

    @classmethod
    def at(cls, result: Result, message: QaMessage, span: tuple[int, int] | None = None, note: str = "",
           confidence: float | None = None) -> Outcome:
        start, end = span if span is not None else (0, len(message.text))
        return cls(result, message.id, start, end, note, confidence)


@dataclass
class Tools:
    """What deciders may use besides the transcript; each is optional (a decider needing a missing one
    decides with its rules alone, or says n/a with a note)."""

    encode: Callable[[list[str]], np.ndarray] | None = None  # MiniLM, unit vectors
    kb_text: Callable[[str], str | None] = lambda doc_id: None  # a cited document's text
    judge: Any = None  # assistant.qa.judge.LlmJudge
    cache: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PartView:
    transcript: Transcript
    part: Part
    messages: list[QaMessage]

    @property
    def speaker(self) -> str:
        """The role that answers the customer in this part."""
        return "assistant" if self.part == "bot" else "agent"

    def replies(self) -> list[QaMessage]:
        return [m for m in self.messages if m.role == self.speaker]

    def customer(self) -> list[QaMessage]:
        return [m for m in self.messages if m.role == "user"]

    def next_reply(self, after: QaMessage) -> QaMessage | None:
        return next((m for m in self.messages if m.id > after.id and m.role == self.speaker), None)


class Decider(Protocol):
    """An item decider; the methods it can decide by are listed beside it in `CHECKS`."""

    def __call__(self, view: PartView, item: Item, tools: Tools) -> Outcome: ...


_SENTENCE: Regex = re2.compile(r"[^.!?\n]+[.!?]*")


def sentences(text: str) -> list[tuple[int, int, str]]:
    """Sentences with their spans: 'Hi. I can help!' -> [(0, 3, 'Hi.'), (4, 15, 'I can help!')]."""
    out = []
    for m in _SENTENCE.finditer(text):
        raw = m.group(0)
        lead = len(raw) - len(raw.lstrip())
        body = raw.strip()
        if body:
            out.append((m.start() + lead, m.start() + lead + len(body), body))
    return out


def compile_i(pattern: str) -> Regex:
    """A case-insensitive RE2 (linear time on customer and agent text)."""
    options = re2.Options()
    options.case_sensitive = False
    return re2.compile(pattern, options)
