"""Generators: one interface (`Generator.stream`), local and OpenAI-compatible backends."""

from assistant.llm.base import ChatMessage, GenerationError, GenerationRequest, Generator

__all__ = ["ChatMessage", "GenerationError", "GenerationRequest", "Generator"]
