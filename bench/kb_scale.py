"""Retrieval at scale on synthetic corpora: build time, memory, search p50/p95 (one thread).

    .venv/bin/python bench/kb_scale.py [--sizes 100000 1000000] [--queries 200]

Vectors are drawn around real knowledge-base embeddings (so clusters look like real text),
chunk texts are 30 words drawn from the knowledge base's own vocabulary. The index code is
the product's: knowledge_base.index.make_vector_index (flat below 50k chunks, IVF above)
and the bm25s index the retriever uses; hybrid = dense + BM25 fused by reciprocal rank.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def real_material():
    """Real chunk vectors and vocabulary from the built index, else random stand-ins."""
    from assistant.config import Settings
    from knowledge_base.index import current_dir
    from knowledge_base.retriever import tokenize

    cur = current_dir(Settings().index_dir)
    if cur is not None:
        vecs = np.load(cur / "chunks_vectors.npy")
        words = sorted({w for line in (cur / "chunks.jsonl").open() for w in tokenize(json.loads(line)["text"])})
        return vecs, words
    rng = np.random.default_rng(1)
    v = rng.standard_normal((500, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True), [f"w{i}" for i in range(3000)]


def synth(n: int, centers: np.ndarray, rng) -> np.ndarray:
    out = np.empty((n, centers.shape[1]), np.float32)
    for s in range(0, n, 100_000):
        m = min(100_000, n - s)
        v = centers[rng.integers(0, len(centers), m)] + rng.standard_normal((m, centers.shape[1])).astype(np.float32) * 0.045
        out[s : s + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def run(n: int, queries: int, centers, words, rng) -> dict:
    import faiss

    from knowledge_base.index import make_vector_index
    from knowledge_base.retriever import RRF_K, _bm25

    faiss.omp_set_num_threads(1)
    vecs = synth(n, centers, rng)
    zipf = 1.0 / np.arange(1, len(words) + 1)
    zipf /= zipf.sum()
    corpus = [[words[i] for i in row] for row in rng.choice(len(words), size=(n, 30), p=zipf)]
    base = rss_mib()
    t0 = time.perf_counter()
    index = make_vector_index(vecs)
    dense_build = time.perf_counter() - t0
    dense_mem = rss_mib() - base
    t0 = time.perf_counter()
    bm25 = _bm25(corpus)
    bm25_build = time.perf_counter() - t0
    del corpus
    qv = synth(queries, centers, rng)
    qt = [[words[i] for i in rng.choice(len(words), 5, p=zipf)] for _ in range(queries)]
    dense_ms, hybrid_ms = [], []
    for v, toks in zip(qv, qt, strict=False):
        t0 = time.perf_counter()
        _, ids = index.search(v[None, :], 20)
        dense_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        _, ids = index.search(v[None, :], 20)
        docs, _ = bm25.retrieve([toks], k=20, show_progress=False, n_threads=1)
        fused: dict[int, float] = {}
        for ranked in (ids[0], docs[0]):
            for r, i in enumerate(ranked):
                fused[int(i)] = fused.get(int(i), 0.0) + 1 / (RRF_K + r)
        sorted(fused, key=fused.get, reverse=True)[:5]
        hybrid_ms.append((time.perf_counter() - t0) * 1000)
    # recall@10 of the index against exact search, on the first 50 queries
    exact = np.argsort(-(vecs @ qv[:50].T), axis=0)[:10].T
    _, approx = index.search(qv[:50], 10)
    recall = float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=False)]))
    return {
        "chunks": n, "index": type(index).__name__, "dense_build_s": round(dense_build, 1), "bm25_build_s": round(bm25_build, 1),
        "dense_index_mib": round(dense_mem), "rss_mib": round(rss_mib()), "recall_at_10": round(recall, 3),
        "dense_p50_ms": round(pct(dense_ms, .5), 2), "dense_p95_ms": round(pct(dense_ms, .95), 2),
        "hybrid_p50_ms": round(pct(hybrid_ms, .5), 2), "hybrid_p95_ms": round(pct(hybrid_ms, .95), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    centers, words = real_material()
    rng = np.random.default_rng(0)
    for n in args.sizes:
        print(json.dumps(run(n, args.queries, centers, words, rng)), flush=True)


if __name__ == "__main__":
    main()
