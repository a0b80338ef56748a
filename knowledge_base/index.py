"""Build the retrieval index: chunks, dense vectors (FAISS through LangChain), FAQ vectors.

Builds are incremental (a chunk whose text is unchanged reuses its vector from the previous
build) and atomic: each build is written to its own version folder and `current` is a
symlink swapped in one rename, so readers never see a half-written index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from knowledge_base.chunking import chunk_document
from knowledge_base.documents import LoadResult, load_directory
from knowledge_base.embeddings import MiniLMEmbeddings
from knowledge_base.types import Chunk

log = logging.getLogger(__name__)

CURRENT = "current"
KEEP_VERSIONS = 2


@dataclass
class BuildReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    chunks: int = 0
    embedded: int = 0
    faqs: int = 0
    seconds: float = 0.0
    version_dir: str = ""

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed, {len(self.failed)} failed; {self.chunks} chunks "
            f"({self.embedded} embedded), {self.faqs} FAQ entries in {self.seconds:.1f} s"
        )


def current_dir(index_dir: Path) -> Path | None:
    link = index_dir / CURRENT
    return link.resolve() if link.exists() else None


def index_exists(index_dir: Path) -> bool:
    cur = current_dir(index_dir)
    return cur is not None and (cur / "manifest.json").exists()


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _previous_vectors(index_dir: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Vectors by text hash and doc hashes from the current build, if any."""
    cur = current_dir(index_dir)
    if cur is None or not (cur / "manifest.json").exists():
        return {}, {}
    manifest = json.loads((cur / "manifest.json").read_text())
    vectors: dict[str, np.ndarray] = {}
    for name in ("chunks", "faq"):
        keys_file, vec_file = cur / f"{name}_keys.json", cur / f"{name}_vectors.npy"
        if keys_file.exists() and vec_file.exists():
            keys = json.loads(keys_file.read_text())
            mat = np.load(vec_file)
            vectors.update(zip(keys, mat, strict=False))
    return vectors, manifest.get("documents", {})


class VectorCache:
    """Vectors by text hash in a SQLite file outside the clone, shared by every index build.

    Fresh clones, test runs and other data dirs then embed only text never seen before.
    """

    def __init__(self, path: Path | None, dim: int) -> None:
        self._conn = None
        self._dim = dim
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(path), timeout=30)
            self._conn.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB NOT NULL)")

    def load(self, keys: list[str]) -> dict[str, np.ndarray]:
        if self._conn is None or not keys:
            return {}
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            rows = self._conn.execute(f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(part))})", part)
            out.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows if len(v) == self._dim * 4)
        return out

    def save(self, items: dict[str, np.ndarray]) -> None:
        if self._conn is None or not items:
            return
        with self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)",
                                   [(k, v.astype(np.float32).tobytes()) for k, v in items.items()])


def _embed_with_cache(
    texts: list[str], cache: dict[str, np.ndarray], embedder: MiniLMEmbeddings, progress: bool,
    store: VectorCache | None = None,
) -> tuple[np.ndarray, list[str], int]:
    keys = [text_key(t) for t in texts]
    if store is not None:
        cache.update(store.load([k for k in set(keys) if k not in cache]))
    todo = sorted({k: t for k, t in zip(keys, texts, strict=False) if k not in cache}.items())
    if todo:
        fresh = embedder.encode([t for _, t in todo], show_progress=progress)
        cache.update(zip((k for k, _ in todo), fresh, strict=False))
        if store is not None:
            store.save(dict(zip((k for k, _ in todo), fresh, strict=False)))
    mat = np.stack([cache[k] for k in keys]) if keys else np.zeros((0, embedder.dim), np.float32)
    return mat.astype(np.float32), keys, len(todo)


ANN_THRESHOLD = 50_000  # chunks; below this an exact flat index is fast enough
DEFAULT_NPROBE = 24


def make_vector_index(vectors: np.ndarray, *, ann_threshold: int = ANN_THRESHOLD, nprobe: int = DEFAULT_NPROBE):
    """Exact inner-product index for small corpora; IVF (k-means cells) above the threshold.

    IVF over HNSW: it builds a million vectors in minutes on two cores, with no graph in memory.
    """
    import faiss

    n, dim = vectors.shape
    index: faiss.Index
    if n < ann_threshold:
        index = faiss.IndexFlatIP(dim)
    else:
        nlist = int(min(4 * np.sqrt(n), n // 40))
        index = faiss.index_factory(dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        sample = vectors[np.random.default_rng(0).choice(n, min(n, nlist * 40), replace=False)]
        index.train(sample)
        faiss.extract_index_ivf(index).nprobe = nprobe
    index.add(vectors)
    return index


FAISS_FILE = Path("faiss") / "index.faiss"


def save_vector_index(index, version: Path) -> None:
    """FAISS's own binary format only. The passages live in chunks.jsonl (JSON): no pickle is
    written, and none is read (an index.pkl of an older build is ignored), so whoever can
    write the index folder cannot make the server run code."""
    import faiss

    (version / FAISS_FILE).parent.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(version / FAISS_FILE))


def load_vector_store(version: Path, embedder, chunks: list[Chunk]):
    """LangChain's FAISS store over the saved index and the passages of chunks.jsonl."""
    import faiss
    from langchain_community.docstore.in_memory import InMemoryDocstore
    from langchain_community.vectorstores import FAISS
    from langchain_community.vectorstores.utils import DistanceStrategy
    from langchain_core.documents import Document as LCDocument

    index = faiss.read_index(str(version / FAISS_FILE))
    if index.ntotal != len(chunks):
        raise ValueError(f"{version / FAISS_FILE} holds {index.ntotal} vectors for {len(chunks)} chunks: rebuild the index")
    return FAISS(
        embedding_function=embedder, index=index,
        docstore=InMemoryDocstore({c.chunk_id: LCDocument(page_content=c.text, metadata=asdict(c)) for c in chunks}),
        index_to_docstore_id=dict(enumerate(c.chunk_id for c in chunks)),
        distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT, normalize_L2=False,
    )


def _compare(report: BuildReport, old_docs: dict[str, str], new_docs: dict[str, str]) -> None:
    """Which documents the build adds, updates, keeps and removes, by content hash."""
    for doc_id, digest in new_docs.items():
        if doc_id not in old_docs:
            report.added.append(doc_id)
        elif old_docs[doc_id] != digest:
            report.updated.append(doc_id)
        else:
            report.unchanged.append(doc_id)
    report.removed = sorted(set(old_docs) - set(new_docs))


def _write_version(version: Path, chunks: list[Chunk], vectors: tuple[np.ndarray, list[str]],
                   faq: tuple[np.ndarray, list[str]], loaded: LoadResult, faq_questions: list[tuple[str, str]],
                   ann_threshold: int) -> None:
    """Every file of one index version except its manifest (written last, by the caller)."""
    version.mkdir()
    save_vector_index(make_vector_index(vectors[0], ann_threshold=ann_threshold), version)
    with (version / "chunks.jsonl").open("w") as f:
        for c in chunks:
            f.write(json.dumps(asdict(c)) + "\n")
    np.save(version / "chunks_vectors.npy", vectors[0])
    (version / "chunks_keys.json").write_text(json.dumps(vectors[1]))
    np.save(version / "faq_vectors.npy", faq[0])
    (version / "faq_keys.json").write_text(json.dumps(faq[1]))
    (version / "faq.json").write_text(
        json.dumps({"entries": [asdict(f) for f in loaded.faqs], "questions": faq_questions})
    )


def build_index(
    docs_dir: Path, index_dir: Path, embedder: MiniLMEmbeddings, *, progress: bool = True,
    vector_cache: Path | None = None, ann_threshold: int = ANN_THRESHOLD,
) -> BuildReport:
    """A new index version from the documents (unchanged texts keep their vectors), then the atomic swap."""
    t0 = time.perf_counter()
    report = BuildReport()
    if not docs_dir.is_dir():
        raise FileNotFoundError(f"knowledge-base folder not found: {docs_dir}")
    loaded = load_directory(docs_dir)
    report.failed = loaded.failed
    cache, old_docs = _previous_vectors(index_dir)
    new_docs = {d.doc_id: d.content_hash for d in loaded.documents}
    _compare(report, old_docs, new_docs)
    chunks: list[Chunk] = []
    for doc in tqdm(loaded.documents, desc="chunking", disable=not progress, unit="doc"):
        chunks.extend(chunk_document(doc))
    if not chunks:
        raise ValueError(f"no ingestible documents under {docs_dir}")
    store = VectorCache(vector_cache, embedder.dim)
    vecs, keys, n_new = _embed_with_cache([c.embed_text for c in chunks], cache, embedder, progress, store)
    faq_questions = [(f.faq_id, q) for f in loaded.faqs for q in f.questions]
    faq_vecs, faq_keys, n_faq = _embed_with_cache([q for _, q in faq_questions], cache, embedder, progress, store)
    report.embedded = n_new + n_faq
    report.chunks, report.faqs = len(chunks), len(loaded.faqs)
    index_dir.mkdir(parents=True, exist_ok=True)
    version = index_dir / f"v{time.time_ns():020d}-{os.getpid()}"  # sorts by build time
    _write_version(version, chunks, (vecs, keys), (faq_vecs, faq_keys), loaded, faq_questions, ann_threshold)
    report.seconds = time.perf_counter() - t0
    report.version_dir = str(version)
    manifest = {
        "built_at": time.time(), "docs_dir": str(docs_dir), "embedding_dim": embedder.dim, "documents": new_docs,
        "paths": {d.doc_id: d.path for d in loaded.documents}, "titles": {d.doc_id: d.title for d in loaded.documents},
        "report": asdict(report),
    }
    (version / "manifest.json").write_text(json.dumps(manifest, indent=1))
    _swap_current(index_dir, version)
    return report


def _swap_current(index_dir: Path, version: Path) -> None:
    tmp_link = index_dir / f".{CURRENT}.{os.getpid()}"
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(version.name)
    os.replace(tmp_link, index_dir / CURRENT)  # atomic on POSIX
    versions = sorted(p for p in index_dir.glob("v*") if p.is_dir())
    for old in versions[:-KEEP_VERSIONS]:
        shutil.rmtree(old, ignore_errors=True)
