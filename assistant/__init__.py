"""Banking assistant runtime: dialogue core, NLU, LLM backends, storage and the HTTP API."""

__version__ = "0.1.0"
