"""Query-encoder speed and agreement: torch (sentence-transformers) vs ONNX Runtime fp32 vs int8.

    .venv/bin/python bench/embed_speed.py [--repeats 200]

Embeds the KB's FAQ question variants one at a time and in batches of 8 and 16 on one thread,
and prints ms per text and each runtime's worst and mean cosine to torch's vectors (the index
is built with fp32 vectors).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=200, help="texts per measurement")
    args = ap.parse_args()

    from assistant.assets import resolve_embedding, resolve_onnx_encoder
    from assistant.config import Settings, offline_environment
    from knowledge_base.documents import load_directory
    from knowledge_base.embeddings import MiniLMEmbeddings
    from knowledge_base.onnx_encoder import OnnxEncoder

    offline_environment()
    import torch

    torch.set_num_threads(1)
    settings = Settings()
    model_dir = resolve_embedding(settings.retrieval.embedding_model)
    texts = [q for f in load_directory(ROOT / "knowledge_base" / "docs" / "faq").faqs for q in f.questions]
    runtimes = {
        "torch": MiniLMEmbeddings(model_dir).encode,
        "onnx-fp32": OnnxEncoder(resolve_onnx_encoder(model_dir, settings.models_cache), model_dir).encode,
        "onnx-int8": OnnxEncoder(resolve_onnx_encoder(model_dir, settings.models_cache, int8=True), model_dir).encode,
    }
    reference = runtimes["torch"](texts)
    for name, encode in runtimes.items():
        got = encode(texts)
        cosine = (reference * got).sum(axis=1)
        row = {"runtime": name, "min_cosine_to_torch": round(float(cosine.min()), 5),
               "mean_cosine_to_torch": round(float(cosine.mean()), 5)}
        for batch in (1, 8, 16):
            encode(texts[:batch])  # warm-up
            t0, n = time.perf_counter(), 0
            while n < args.repeats:
                start = n % (len(texts) - batch)
                encode(texts[start:start + batch])
                n += batch
            row[f"ms_per_text_batch{batch}"] = round((time.perf_counter() - t0) * 1000 / n, 2)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
