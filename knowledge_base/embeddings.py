"""Sentence embeddings (all-MiniLM-L6-v2 via sentence-transformers) as a LangChain Embeddings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings


class MiniLMEmbeddings(Embeddings):
    """Normalised 384-d embeddings, so inner product is cosine similarity."""

    def __init__(self, model_dir: Path, *, batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self._batch_size = batch_size
        self.dim = int(self._model.get_embedding_dimension())

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        vecs = self._model.encode(
            texts, batch_size=self._batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=show_progress,
        )
        return vecs.astype(np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()
