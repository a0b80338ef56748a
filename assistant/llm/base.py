"""The generator role: turn chat messages into a stream of text deltas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    messages: tuple[ChatMessage, ...]
    max_new_tokens: int = 160
    temperature: float = 0.0


class GenerationError(RuntimeError):
    """The model failed or timed out; the pipeline turns it into an apology, not a 500."""


class Generator(Protocol):
    name: str

    def stream(self, request: GenerationRequest) -> AsyncIterator[str]: ...
