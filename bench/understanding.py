"""Issue 29 figures for the understanding step (redaction + MiniLM + intent/scope/human heads +
routes, and mpnet for unsure messages: the second opinion), each printed with the data it was measured on.

    .venv/bin/python bench/understanding.py [--split test|dev] [--sgd-limit 4000] [--json out.json]

Data and splits are fixed in finetune/intent/external.py: `test` is for reported figures (its
errors are not read while tuning), `dev` may be inspected. Human-request recall is measured on
finetune/data/human_request_fresh.yaml (written apart from the training templates) and on the
older finetune/data/human_request_test.yaml. BANKING77 "held-out" is the seed-13 15 % split of
the training CSV (the official test split is not used). Needs ../shared/data or BANK_NLU__SHARED_DATA_DIR.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.config import Settings, offline_environment  # noqa: E402

offline_environment()


class Seen:
    """One result; fields an older classifier lacks read as their defaults (to measure it too)."""

    def __init__(self, r) -> None:
        self.r = r
        self.offer_agent, self.route = getattr(r, "offer_agent", False), getattr(r, "route", "")

    def __getattr__(self, name):
        return getattr(self.r, name)


def share(flags) -> float:
    return round(float(np.mean(flags)), 4) if len(flags) else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=("test", "dev"), default="test")
    ap.add_argument("--sgd-limit", type=int, default=4000, help="fixed subset of SGD other-domain turns (0: all)")
    ap.add_argument("--latency-n", type=int, default=200)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--shared-data-dir", type=Path, help="default: BANK_NLU__SHARED_DATA_DIR")
    args = ap.parse_args()

    import torch

    from assistant.handoff.policy import HandoffPolicy
    from assistant.privacy import redact
    from assistant.services import build_embedder, build_nlu, build_reranker
    from finetune.intent import external as X
    from finetune.intent.chars import mashing
    from finetune.intent.data import DATA_DIR, HUMAN_TEST_FILE, build_dataset, load_yaml_lists
    from finetune.intent.embed import embed_texts

    settings = Settings(torch_threads=1)
    shared = args.shared_data_dir or settings.nlu.shared_data_dir
    embedder = build_embedder(settings)
    clf = build_nlu(settings, embedder, HandoffPolicy.load(settings.handoff.policy), build_reranker(settings))
    asked: list[str] = []  # the messages that asked the second opinion (mpnet, finetune/intent/second.py)
    if clf.second_encoder is not None:
        encode = clf.second_encoder
        clf.second_encoder = lambda t: asked.append(t) or encode(t)
    cfg = json.loads((settings.nlu.artifact_dir / "config.json").read_text())["training"]
    splits, _ = build_dataset(settings.nlu.banking77_dir, test_frac=cfg["hparams"]["test_frac"],
                              val_frac=cfg["hparams"]["val_frac"], seed=cfg["seed"])
    b77 = [e for e in splits.test if e.source == "banking77"]
    fresh, old = load_yaml_lists(DATA_DIR / "human_request_fresh.yaml"), load_yaml_lists(HUMAN_TEST_FILE)
    banks = X.pick(X.sgd_banks(shared), args.split)
    other = X.pick([r for r in X.sgd_other(shared) if not r.domain_free], args.split, limit=args.sgd_limit or None)
    sets = {
        "fresh_pos": fresh["positive"], "fresh_neg": fresh["negative"], "old_pos": old["positive"],
        "b77": [e.text for e in b77], "banks": [r.text for r in banks], "other": [r.text for r in other],
        "mash": mashing(300, seed=101),
    }
    results = {}
    for name, texts in sets.items():
        red = [redact(t).text for t in texts]
        vecs = embed_texts(red, model_dir=embedder.model_dir, cache_dir=settings.storage.cache_dir / "intent-embeddings") \
            if hasattr(embedder, "model_dir") else embedder.encode(red)
        before = len(asked)
        results[name] = [clf.classify(t, embedding=v) for t, v in zip(red, vecs, strict=True)]
        results[name + "_asked"] = len(asked) - before
    r = {k: [Seen(x) for x in v] for k, v in results.items() if not k.endswith("_asked")}
    banking = r["b77"] + r["banks"]
    content_banks = [x for x, row in zip(r["banks"], banks, strict=True) if not row.domain_free]
    figures = {
        "human_request_recall": {
            "human_request_fresh.yaml positive (written apart; test only)": share([x.handoff_recommended for x in r["fresh_pos"]]),
            "human_request_test.yaml positive (older held-out set)": share([x.handoff_recommended for x in r["old_pos"]]),
        },
        "false_handoffs": {
            "human_request_fresh.yaml hard negatives": share([x.handoff_recommended for x in r["fresh_neg"]]),
            f"BANKING77 held-out ({len(b77)}) + SGD banks {args.split} user turns ({len(banks)})": share([x.handoff_recommended for x in banking]),
            "BANKING77 held-out": share([x.handoff_recommended for x in r["b77"]]),
            f"SGD banks {args.split}": share([x.handoff_recommended for x in r["banks"]]),
        },
        "offer_agent (not a hand-off) on BANKING77 held-out": share([x.offer_agent for x in r["b77"]]),
        "refused": {f"SGD other domains {args.split}, domain content ({len(other)})": share(
            [not x.in_scope and not x.handoff_recommended or x.route in ("advice", "not_offered", "rephrase") for x in r["other"]])},
        "kept_in_scope": {
            "BANKING77 held-out": share([x.in_scope and x.route == "" or x.route == "clarify" for x in r["b77"]]),
            f"SGD banks {args.split}, domain content ({len(content_banks)})": share(
                [x.in_scope and x.route in ("", "clarify") for x in content_banks]),
        },
        "banking77_held_out_accuracy": {
            "runtime intent (refusals count as errors)": share([x.intent == e.label for x, e in zip(r["b77"], b77, strict=True)]),
            "top intent": share([x.top[0][0] == e.label for x, e in zip(r["b77"], b77, strict=True)]),
        },
        "second_opinion_asked (share of messages)": {"BANKING77 held-out": round(results["b77_asked"] / len(b77), 4),
                                                     f"SGD banks {args.split}": round(results["banks_asked"] / max(1, len(banks)), 4)},
        "rephrase": {"synthetic keyboard mashing (finetune/intent/chars.py, seed 101)": share([x.route == "rephrase" for x in r["mash"]]),
                     "BANKING77 held-out + SGD banks (false)": share([x.route == "rephrase" for x in banking])},
        "advice_or_not_offered_on_banking (false)": share([x.route in ("advice", "not_offered") for x in banking]),
        "clarify_on_banking": share([x.route == "clarify" for x in banking]),
    }
    torch.set_num_threads(1)
    texts = sets["b77"][: args.latency_n]
    for t in texts[:10]:
        clf.classify(redact(t).text)
    times = []
    for t in texts:
        t0 = time.perf_counter()
        clf.classify(redact(t).text)  # its own MiniLM pass: the whole step
        times.append(time.perf_counter() - t0)
    figures["p50_ms_one_thread (redact + embed + heads + routes, BANKING77 held-out)"] = round(float(np.percentile(times, 50)) * 1000, 2)
    figures["p90_ms_one_thread"] = round(float(np.percentile(times, 90)) * 1000, 2)
    figures["p95_ms_one_thread"] = round(float(np.percentile(times, 95)) * 1000, 2)
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
