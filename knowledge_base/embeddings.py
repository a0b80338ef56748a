"""Sentence embeddings (all-MiniLM-L6-v2) as a LangChain Embeddings.

Two runtimes give the same vectors: ONNX Runtime on a graph exported once from the package's
weights (knowledge_base/onnx_encoder.py, the default: 2-3x faster for one query on this CPU),
or sentence-transformers on torch.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.embeddings import Embeddings

from knowledge_base.onnx_encoder import OnnxEncoder

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class MiniLMEmbeddings(Embeddings):
    """Normalised 384-d embeddings, so inner product is cosine similarity."""

    def __init__(self, model_dir: Path, *, onnx_file: Path | None = None, query_onnx_file: Path | None = None,
                 threads: int = 1, batch_size: int = 32) -> None:
        """`onnx_file`: the exported graph (assistant.assets.resolve_onnx_encoder), None runs torch;
        `query_onnx_file`: a faster graph (int8) for `submit(fast=True)`: the FAQ screen of a customer's message."""
        self._batch_size = batch_size
        self._pending: queue.SimpleQueue[tuple[str, bool, Future] | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._encoder: OnnxEncoder | SentenceTransformer
        if onnx_file is not None:
            self._encoder = OnnxEncoder(onnx_file, model_dir, threads=threads)
            self.dim, self.runtime = self._encoder.dim, "onnx"
        else:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
            dim = model.get_embedding_dimension()
            if dim is None:
                raise ValueError(f"{model_dir}: the model does not state its embedding dimension")
            self._encoder, self.dim, self.runtime = model, int(dim), "torch"
        self._queries: OnnxEncoder | None = None
        if query_onnx_file is not None:
            self._queries, self.runtime = OnnxEncoder(query_onnx_file, model_dir, threads=threads), self.runtime + "+int8 fast"

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        encoder = self._encoder
        if not isinstance(encoder, OnnxEncoder):
            vecs = encoder.encode(
                texts, batch_size=self._batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=show_progress,
            )
            return vecs.astype(np.float32)
        # Batches of similar length, as sentence-transformers does: padding costs compute.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        starts: Iterable[int] = range(0, len(order), self._batch_size)
        if show_progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches")
        for start in starts:
            idx = order[start:start + self._batch_size]
            out[idx] = encoder.encode([texts[i] for i in idx])
        return out

    @property
    def has_fast(self) -> bool:
        """Whether `fast=True` has a faster (int8) graph to run; without one it is the exact encoder."""
        return self._queries is not None

    def encode_fast(self, texts: list[str]) -> np.ndarray:
        """Short customer messages through the int8 graph (the exact encoder when there is none).

        The int8 graph quantizes activations with one scale per input tensor, so a text's vector
        would depend on the other texts (and padding) of its batch: it runs one text at a time, so
        a question always gets the same vector, whatever the load.
        """
        if self._queries is None:
            return self.encode(texts)
        return np.concatenate([self._queries.encode([t]) for t in texts]) if texts else np.empty((0, self.dim), np.float32)

    def submit(self, text: str, *, fast: bool = False) -> Future:
        """One text's vector, later: a future that the encoder thread completes.

        One thread owns the query encoder and takes everything queued while it was busy as one
        batch (the exact graph shares forward passes; `fast` texts run one by one through the int8
        graph), and no caller holds a worker thread while it waits:
        `await asyncio.wrap_future(embedder.submit(text))`.
        """
        future: Future = Future()
        self._ensure_worker()
        self._pending.put((text, fast and self.has_fast, future))
        return future

    def embed_one(self, text: str, *, fast: bool = False) -> np.ndarray:
        """`submit` for a synchronous caller: blocks until the vector is ready."""
        return self.submit(text, fast=fast).result()

    def close(self) -> None:
        """Stop the encoder thread (it restarts on the next submit)."""
        with self._start_lock:
            if self._worker is not None:
                self._pending.put(None)
                self._worker.join(5)
                self._worker = None

    def _ensure_worker(self) -> None:
        if self._worker is not None:
            return
        with self._start_lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._serve, name="query-encoder", daemon=True)
                self._worker.start()

    def _serve(self) -> None:
        while True:
            first = self._pending.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._batch_size:
                try:
                    item = self._pending.get_nowait()
                except queue.Empty:
                    break
                if item is None:  # close(): finish this batch, then stop
                    self._pending.put(None)
                    break
                batch.append(item)
            live = [(t, fast, f) for t, fast, f in batch if f.set_running_or_notify_cancel()]
            for encode, group in ((self.encode, [(t, f) for t, fast, f in live if not fast]),
                                  (self.encode_fast, [(t, f) for t, fast, f in live if fast])):
                if not group:
                    continue
                try:
                    vectors = encode([t for t, _ in group])
                except BaseException as exc:  # every caller of the batch gets the error; the thread goes on
                    for _, f in group:
                        f.set_exception(exc)
                    continue
                for (_, f), v in zip(group, vectors, strict=False):
                    f.set_result(v.copy())  # its own row: a cached vector must not pin the whole batch

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()
