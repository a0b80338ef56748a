"""How well `ExplainRequests` (assistant/core/explain_requests.py) tells "explain / say that again" requests
from messages that name a subject of their own, per threshold.

    .venv/bin/python bench/explain_requests.py [--data ../shared/data] [--thresholds 0.5,0.55,0.6]

Recall (read as a request about the last answer; higher is better):
- hwu64 general_explain: its rows, less every text knowledge_base/eval/followups.yaml quotes (the
  follow-up set's `explain` turns, dev and holdout, are never looked at here); the addressee ("s1, ") dropped;
- hwu64 general_repeat: "say that again" requests, for information.
False positives (read as such a request; lower is better), messages that name their own subject:
- banking77 train: every row; sgd banks: the customer's turns with a word of their own
  (assistant/core/subjects.py `own_words`: "In checking." counts, "That's right." does not);
- kb eval: the knowledge base's eval questions (knowledge_base/eval), first turns only;
- hwu64 other: 3000 rows of the other intents (a fixed sample), requests from elsewhere.
Each figure is over the messages that pass the length gate too (at most ELLIPTIC_WORDS words).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset_refs import DatasetTexts, default_data_dir  # noqa: E402


def _clean(text: str) -> str:
    return re.sub(r"^s\d+,?\s*", "", text.strip())


def quoted_hwu64_texts() -> set[str]:
    """The HWU64 texts the follow-up set quotes (by row), lowercased: kept out of this check."""
    import yaml

    data = yaml.safe_load((ROOT / "knowledge_base" / "eval" / "followups.yaml").read_text())
    return {f"hwu64:{t['ref']['row']}" for c in data for t in c["turns"]
            if isinstance(t.get("ref"), dict) and t["ref"].get("set") == "hwu64"}


def pools(data: Path) -> dict[str, list[str]]:
    from assistant.core.subjects import own_words
    from knowledge_base.evaluate import load_questions

    texts = DatasetTexts(data)
    hwu = texts.records("hwu64")
    quoted = quoted_hwu64_texts()
    held = {_clean(hwu[int(k.split(":")[1])]["text"]).lower() for k in quoted}
    explain = [_clean(r["text"]) for r in hwu if r["intent"] == "general_explain"]
    other = [_clean(r["text"]) for r in hwu if not r["intent"].startswith("general_")]
    sgd = [t["utterance"] for d in texts.records("sgd") for t in d["turns"] if t["speaker"] == "USER"]
    return {
        "hwu64 general_explain (recall)": sorted({t for t in explain if t.lower() not in held}),
        "hwu64 general_repeat (recall)": sorted({_clean(r["text"]) for r in hwu if r["intent"] == "general_repeat"}),
        "banking77 train (FP)": [r["text"] for r in texts.records("banking77")],
        "sgd banks, own words (FP)": sorted({t for t in sgd if own_words(t)}),
        "kb eval (FP)": [q.q for q in load_questions() if not q.follow_up_of],
        "hwu64 other (FP)": random.Random(29).sample(other, 3000),
    }


def _vectors(name: str, items: list[str], encode: Callable[[list[str]], np.ndarray], cache: Path | None) -> np.ndarray:
    path = cache / (re.sub(r"\W+", "_", name) + ".npy") if cache else None
    if path is not None and path.exists():
        return np.load(path)
    vectors = encode(items)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--thresholds", default="0.5,0.55,0.6,0.65,0.7")
    ap.add_argument("--cache", type=Path, help="a folder for the pools' vectors (they do not depend on the requests)")
    ap.add_argument("--show", type=float, default=0.0, help="print the texts on the wrong side at this threshold")
    args = ap.parse_args()

    from assistant.config import Settings
    from assistant.core.explain_requests import ExplainRequests
    from assistant.core.subjects import ELLIPTIC_WORDS
    from assistant.services import build_embedder

    embedder = build_embedder(Settings())
    reader = ExplainRequests(embedder.encode)
    thresholds = [float(t) for t in args.thresholds.split(",")]
    print("pool".ljust(34), "n".rjust(6), *(f"{t:>7}" for t in thresholds))
    for name, items in pools(args.data or default_data_dir()).items():
        vectors = _vectors(name, items, embedder.encode, args.cache)
        sims = [reader.similarity(v) if len(t.split()) <= ELLIPTIC_WORDS else -1.0 for t, v in zip(items, vectors, strict=True)]
        rates = [sum(s >= t for s in sims) / len(items) for t in thresholds]
        print(name.ljust(34), str(len(items)).rjust(6), *(f"{r:7.3f}" for r in rates), flush=True)
        if args.show:
            wrong = [(s, t) for s, t in zip(sims, items, strict=True) if (s >= args.show) == ("(FP)" in name)]
            for s, t in sorted(wrong, reverse="(FP)" in name)[:25]:
                print(f"    {s:.3f}  {t}")


if __name__ == "__main__":
    main()
