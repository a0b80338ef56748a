"""Types of compiled RE2 patterns (google-re2 ships no type stubs): what our code calls on them.

Every pattern applied to customer text runs in linear time; RE2 guarantees it by construction.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol


class RegexMatch(Protocol):
    """An RE2 match: `m.span()` -> (4, 15)."""

    def span(self, group: int = 0) -> tuple[int, int]: ...
    def start(self, group: int = 0) -> int: ...
    def end(self, group: int = 0) -> int: ...
    def group(self, group: int = 0) -> str: ...


class Regex(Protocol):
    """A compiled RE2 pattern: `ACCOUNT.search(text)` -> a match or None."""

    def search(self, text: str) -> RegexMatch | None: ...
    def finditer(self, text: str) -> Iterator[RegexMatch]: ...
    def sub(self, repl: str, text: str, count: int = 0) -> str: ...
