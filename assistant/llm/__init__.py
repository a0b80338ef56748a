"""Generators: one interface (`Generator.stream`), local and OpenAI-compatible backends."""

from assistant.llm import prompts
from assistant.llm.base import ChatMessage, GenerationError, GenerationRequest, Generator

__all__ = ["prompts", "ChatMessage", "GenerationError", "GenerationRequest", "Generator"]
