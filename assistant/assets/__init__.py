"""Model weights from installed packages or local paths: located, joined, checked, converted once.

Nothing is downloaded. `cache` is the one way a model reaches the cache (lock, join, sha256,
marker), `registry` names the packaged models, `models` resolves what settings name.
"""

from assistant.assets.cache import MissingModelError, sha256_file
from assistant.assets.models import (
    resolve_embedding,
    resolve_gguf,
    resolve_llm,
    resolve_onnx_encoder,
    resolve_rerank_model,
)
from assistant.assets.registry import EMBEDDING_PACKAGES, LLM_REGISTRY, RERANK_REGISTRY, PackagedGGUF, PackagedZip

__all__ = [
    "EMBEDDING_PACKAGES",
    "LLM_REGISTRY",
    "RERANK_REGISTRY",
    "MissingModelError",
    "PackagedGGUF",
    "PackagedZip",
    "resolve_embedding",
    "resolve_gguf",
    "resolve_llm",
    "resolve_onnx_encoder",
    "resolve_rerank_model",
    "sha256_file",
]
