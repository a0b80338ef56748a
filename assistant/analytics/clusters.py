"""One full clustering of gap questions: clusters, their names, centroids, examples and stable ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from assistant.analytics.naming import cluster_names

KEEP_ID_SIMILARITY = 0.9  # a new cluster whose centroid is this close to an old gap's keeps that gap's id


@dataclass(frozen=True, slots=True)
class BuiltGap:
    id: str
    name: str
    centroid: np.ndarray
    members: list[int]  # indexes into the texts given
    examples: list[str]


def cluster(vectors: np.ndarray, *, distance: float, min_size: int) -> list[list[int]]:
    """Groups of row indexes whose average pairwise cosine distance stays under `distance`; groups smaller
    than `min_size` are dropped. Largest first."""
    if len(vectors) < max(2, min_size):
        return []
    labels = AgglomerativeClustering(n_clusters=None, distance_threshold=distance, metric="cosine",
                                     linkage="average").fit_predict(vectors)
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    return sorted((g for g in groups.values() if len(g) >= min_size), key=lambda g: (-len(g), g[0]))


def examples(texts: list[str], vectors: np.ndarray, members: list[int], centroid: np.ndarray, n: int) -> list[str]:
    """The `n` distinct questions nearest the centroid (case and spacing ignored when comparing)."""
    out, seen = [], set()
    for i in sorted(members, key=lambda i: -float(vectors[i] @ centroid)):
        key = " ".join(texts[i].lower().split())
        if key not in seen:
            seen.add(key)
            out.append(texts[i])
        if len(out) == n:
            break
    return out


def keep_ids(centroids: list[np.ndarray], old: dict[str, np.ndarray], new_id: Callable[[], str]) -> list[str]:
    """Each cluster's id: the old gap's whose centroid is nearest (cosine >= 0.9), each old id used once,
    the closest pairs first; otherwise a new one."""
    pairs = sorted(((float(c @ v), i, gid) for i, c in enumerate(centroids) for gid, v in old.items()
                    if len(v) == len(c)), reverse=True)
    ids: dict[int, str] = {}
    used: set[str] = set()
    for sim, i, gid in pairs:
        if sim < KEEP_ID_SIMILARITY:
            break
        if i not in ids and gid not in used:
            ids[i] = gid
            used.add(gid)
    return [ids.get(i) or new_id() for i in range(len(centroids))]


def build_gaps(texts: list[str], vectors: np.ndarray, old: dict[str, np.ndarray], cfg, *,
               new_id: Callable[[], str]) -> list[BuiltGap]:
    groups = cluster(vectors, distance=cfg.distance, min_size=cfg.min_size)
    if not groups:
        return []
    grouped = {i for g in groups for i in g}
    names = cluster_names([[texts[i] for i in g] for g in groups],
                          background=[t for i, t in enumerate(texts) if i not in grouped])
    centroids = []
    for g in groups:
        mean = vectors[g].mean(axis=0)
        centroids.append((mean / (np.linalg.norm(mean) or 1)).astype(np.float32))
    ids = keep_ids(centroids, old, new_id)
    return [BuiltGap(ids[k], names[k], centroids[k], g, examples(texts, vectors, g, centroids[k], cfg.examples))
            for k, g in enumerate(groups)]
