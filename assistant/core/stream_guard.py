"""The figure guard while a reply streams: a sentence that may hold a figure waits until it is whole and
checked against the passages; text without one streams at once.

"You have thirteen days" never reaches the customer when no passage says thirteen: the sentence is held
from "thirteen" on, checked when it ends, and the guard trips (docs/answering.md, steps 11-12).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from assistant.core.grounding import check_reply
from assistant.core.guardrails import leaks_system_prompt
from assistant.core.outgoing import HOLD, unsafe_sentence
from knowledge_base import Passage
from knowledge_base.figures import NUMBER_WORDS

_SENTENCE_END = re.compile(r"[.!?](?=\s)")
# Where a figure may begin: a digit, "$" or any number word `figures` reads ("one", "thirteen").
_FIGURE_START = re.compile(r"\d|\$|\b(?:" + "|".join(NUMBER_WORDS) + r")\b", re.I)
# ... or anything else a sentence must be whole to be checked for: an address, the name of a secret.
_HOLD_START = re.compile(f"{_FIGURE_START.pattern}|{HOLD.pattern}", re.I)


class GuardTripped(Exception):
    """The stream said what no passage supports (a figure), or what the bank never says."""


def _verified(sentence: str, context: list[Passage], link_domains: tuple[str, ...]) -> str:
    verdict = check_reply(sentence, context)
    if not verdict.ok:
        raise GuardTripped(", ".join(verdict.unsupported))
    unsafe = unsafe_sentence(sentence, link_domains)
    if unsafe:  # a link elsewhere, a request for a secret: never the bank's words
        raise GuardTripped(unsafe)
    return sentence


async def guarded(stream: AsyncIterator[str], context: list[Passage], system: str,
                  link_domains: tuple[str, ...]) -> AsyncIterator[str]:
    """The model's text, with any sentence holding a figure held back until it is verified."""
    full, done = "", 0
    async for piece in stream:
        full += piece
        if leaks_system_prompt(full, system):  # before the 8th word of a run of the prompt goes out
            raise GuardTripped("system prompt")
        while True:
            pending = full[done:]
            end = _SENTENCE_END.search(pending)
            if end:
                out = _verified(pending[: end.end()], context, link_domains)
                done += len(out)
                if out.strip():
                    yield out
                continue
            fig = _HOLD_START.search(pending)
            safe = pending if fig is None else pending[: fig.start()]
            if fig is None:  # a word cut off by the end of a piece may be the start of one ("thir" + "teen")
                safe = safe[: _partial_word_start(safe)]
            if safe.strip() or (safe and full[:done].strip()):
                done += len(safe)
                yield safe
            break
    tail = full[done:]
    if tail.strip():
        yield _verified(tail, context, link_domains)


def _partial_word_start(text: str) -> int:
    """Where the word the text ends in begins (len(text) when it ends in no word character)."""
    i = len(text)
    while i and (text[i - 1].isalnum() or text[i - 1] in "_-"):
        i -= 1
    return i
