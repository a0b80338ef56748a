"""Intent classifier latency per utterance on one core (the runtime class, the committed artefact).

    .venv/bin/python bench/intent_latency.py [--repeats 3] [--json out.json]

Two figures: the whole classify() including its own MiniLM pass, and classify() given the
embedding the dialogue pipeline has already computed for retrieval (the usual case).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.config import offline_environment  # noqa: E402

offline_environment()


def pct(values: list[float], q: float) -> float:
    import numpy as np

    return round(float(np.percentile(values, q)) * 1000, 2)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import torch

    from assistant.config import Settings
    from assistant.nlu.classifier import MiniLMIntentClassifier
    from assistant.services import build_embedder
    from finetune.intent.data import HUMAN_TEST_FILE, OOD_TEST_FILE, load_yaml_lists

    settings = Settings(torch_threads=1)
    embedder = build_embedder(settings)  # sets torch to one thread
    t0 = time.perf_counter()
    clf = MiniLMIntentClassifier(embedder, settings.nlu.artifact_dir)
    load_s = time.perf_counter() - t0
    texts = [t for f in (HUMAN_TEST_FILE, OOD_TEST_FILE) for group in load_yaml_lists(f).values() for t in group]
    for t in texts[:10]:
        clf.classify(t)  # warm-up
    full, shared = [], []
    for _ in range(args.repeats):
        for t in texts:
            a = time.perf_counter()
            clf.classify(t)
            full.append(time.perf_counter() - a)
            vec = embedder.encode([t])[0]
            a = time.perf_counter()
            clf.classify(t, embedding=vec)
            shared.append(time.perf_counter() - a)
    out = {
        "utterances": len(full), "torch_threads": torch.get_num_threads(), "load_s": round(load_s, 3),
        "classify_p50_ms": pct(full, 50), "classify_p95_ms": pct(full, 95),
        "with_shared_embedding_p50_ms": pct(shared, 50), "with_shared_embedding_p95_ms": pct(shared, 95),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(f"intent classify, one thread, {out['utterances']} utterances (load average {out['load_average_1m']}):")
    print(f"  own MiniLM pass + heads   p50 {out['classify_p50_ms']} ms   p95 {out['classify_p95_ms']} ms")
    print(f"  shared embedding, heads   p50 {out['with_shared_embedding_p50_ms']} ms   p95 {out['with_shared_embedding_p95_ms']} ms")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
