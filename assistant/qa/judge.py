"""The local LLM as a judge for an item (decided_by: llm): the part's last messages and the item's
description in, one word out (PASS, FAIL or NA). Evidence is the last reply of the part.

It costs a model call per item (seconds on CPU), so the default scorecard uses it nowhere:
bench/qa_agreement.py --judge measures whether it beats the embedding classifier on the dev split.
"""

from __future__ import annotations

import asyncio
import time

from assistant.llm import ChatMessage, GenerationRequest, Generator
from assistant.qa.deciders.base import Outcome, PartView
from assistant.qa.scorecard import Item

SYSTEM = ("You review bank customer-service chats. Answer with one word: PASS if the rule holds, FAIL if it is "
          "broken, NA if the rule does not apply to this chat.")
WHO = {"assistant": "Bot", "agent": "Agent", "user": "Customer", "system": "System"}


class LlmJudge:
    def __init__(self, generator: Generator, *, last_messages: int = 8, max_chars: int = 1800) -> None:
        self.generator = generator
        self.last_messages = last_messages
        self.max_chars = max_chars
        self.calls = 0
        self.seconds = 0.0

    def prompt(self, view: PartView, item: Item) -> tuple[ChatMessage, ...]:
        lines = [f"{WHO[m.role]}: {' '.join(m.text.split())}" for m in view.messages[-self.last_messages:]]
        chat = "\n".join(lines)[-self.max_chars:]
        rule = f"{item.title}. {item.description}".strip()
        return (ChatMessage("system", SYSTEM),
                ChatMessage("user", f"Rule: {rule}\n\nChat ({'bot' if view.part == 'bot' else 'agent'} part):\n{chat}\n\nAnswer:"))

    async def _ask(self, messages: tuple[ChatMessage, ...]) -> str:
        out = []
        async for delta in self.generator.stream(GenerationRequest(messages=messages, max_new_tokens=3)):
            out.append(delta)
        return "".join(out)

    def decide(self, view: PartView, item: Item) -> Outcome:
        """Blocking: run from a worker thread or a script, not the event loop."""
        replies = view.replies()
        if not replies:
            return Outcome.na("no reply in this part")
        t0 = time.perf_counter()
        answer = asyncio.run(self._ask(self.prompt(view, item))).strip().upper()
        self.calls += 1
        self.seconds += time.perf_counter() - t0
        word = next((w for w in ("PASS", "FAIL", "NA", "N/A") if answer.startswith(w)), None)
        if word is None:
            return Outcome.at("fail", replies[-1], None, f"the judge gave no verdict ({answer[:20]!r})")
        result = "na" if word in ("NA", "N/A") else word.lower()
        return Outcome.at(result, replies[-1], None, "llm judge")  # type: ignore[arg-type]
