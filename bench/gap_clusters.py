"""How well knowledge-gap clustering groups questions by what they ask, and which distance to use.

Data: the BANKING77 training split (../shared/data/banking77/train.csv), standing in for unanswered
questions: each intent is one "gap". The 77 intents are split once, by a fixed seed, into 38 dev intents
(used to choose the distance) and 39 held-out intents (scored once, with the chosen distance). Per intent,
`--per-intent` questions are drawn, plus as many singletons from other intents as noise would be.

For each distance: questions embedded with the assistant's MiniLM (ONNX, as at run time), clustered as
assistant/analytics/clusters.py does (average linkage, cosine distance, clusters of at least 3), then
scored: adjusted Rand index and V-measure against the intents (questions in no cluster count as their own
singleton), coverage (share of questions in a gap), purity (share of a gap's questions from its main intent)
and the number of gaps.

  .venv/bin/python bench/gap_clusters.py                 # choose on dev
  .venv/bin/python bench/gap_clusters.py --holdout 0.45  # score the held-out intents once
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, v_measure_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.analytics.clusters import cluster  # noqa: E402
from assistant.analytics.naming import cluster_names  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.services import build_embedder  # noqa: E402

DISTANCES = (0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60)


def load(path: Path) -> dict[str, list[str]]:
    by_intent: dict[str, list[str]] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            by_intent.setdefault(row["category"], []).append(row["text"].strip())
    return by_intent


def sample(by_intent: dict[str, list[str]], intents: list[str], per: int, rng) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for intent in intents:
        for t in rng.choice(by_intent[intent], size=per, replace=False):
            texts.append(str(t))
            labels.append(intent)
    return texts, labels


def score(vectors: np.ndarray, labels: list[str], distance: float) -> dict:
    groups = cluster(vectors, distance=distance, min_size=3)
    assigned = np.full(len(labels), -1)
    for k, g in enumerate(groups):
        assigned[g] = k
    predicted = [int(a) if a >= 0 else -(i + 1) for i, a in enumerate(assigned)]  # unplaced: own singleton
    purity = [Counter(labels[i] for i in g).most_common(1)[0][1] / len(g) for g in groups]
    return {"ari": adjusted_rand_score(labels, predicted), "v": v_measure_score(labels, predicted),
            "coverage": float((assigned >= 0).mean()), "purity": float(np.mean(purity)) if purity else 0.0,
            "gaps": len(groups), "groups": groups}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Settings(_env_file=None).nlu.banking77_dir / "train.csv")
    ap.add_argument("--per-intent", type=int, default=12)
    ap.add_argument("--holdout", type=float, default=None, help="score the held-out intents with this distance")
    ap.add_argument("--seed", type=int, default=77)
    args = ap.parse_args()
    by_intent = load(args.data)
    intents = sorted(by_intent)
    rng = np.random.default_rng(args.seed)
    order = list(rng.permutation(intents))
    dev, held = sorted(order[:38]), sorted(order[38:])
    embedder = build_embedder(Settings(_env_file=None))
    which = held if args.holdout is not None else dev
    texts, labels = sample(by_intent, which, args.per_intent, rng)
    t0 = time.perf_counter()
    vectors = embedder.encode(texts)
    print(f"{'held-out' if args.holdout is not None else 'dev'}: {len(which)} intents x {args.per_intent} questions, "
          f"embedded in {time.perf_counter() - t0:.1f} s")
    print(f"{'distance':>8} {'ARI':>6} {'V':>6} {'coverage':>9} {'purity':>7} {'gaps':>5}")
    for d in ([args.holdout] if args.holdout is not None else DISTANCES):
        t0 = time.perf_counter()
        s = score(vectors, labels, d)
        print(f"{d:8.2f} {s['ari']:6.3f} {s['v']:6.3f} {s['coverage']:9.3f} {s['purity']:7.3f} {s['gaps']:5d}"
              f"   ({(time.perf_counter() - t0) * 1000:.0f} ms)")
    if args.holdout is not None:
        groups = s["groups"]
        names = cluster_names([[texts[i] for i in g] for g in groups])
        for g, name in list(zip(groups, names, strict=True))[:8]:
            top = Counter(labels[i] for i in g).most_common(1)[0]
            print(f"  {name!r:45} {len(g):3d} questions, {top[1]} of intent {top[0]}")


if __name__ == "__main__":
    main()
