"""Experiment: does LoRA fine-tuning of MiniLM beat the frozen encoder the artefact uses?

    .venv/bin/python -m finetune.intent.compare_finetune [--train-layers 2] [--epochs 4] [--json out.json]

Same split and seed as finetune.intent.train; trains LoRA on the top layers (from cached
lower-layer states, see encoder.py) with a cosine head over all 83 intents and reports
held-out BANKING77 accuracy alone and in the same TF-IDF ensemble. Not part of the
artefact build: its figures are the evidence for choosing the frozen encoder (README.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from finetune.config import offline_environment
from finetune.intent import encoder as E
from finetune.intent import heads as H
from finetune.intent.data import build_dataset
from finetune.intent.embed import base_model_dir
from finetune.intent.train import HPARAMS, PathSettings


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m finetune.intent.compare_finetune")
    ap.add_argument("--banking77-dir", type=Path, default=PathSettings().banking77_dir)
    ap.add_argument("--train-layers", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lora-r", type=int, default=16)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path)
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    offline_environment()
    import torch

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    splits, labels = build_dataset(args.banking77_dir, test_frac=HPARAMS["test_frac"], val_frac=HPARAMS["val_frac"], seed=args.seed)
    index = {name: i for i, name in enumerate(labels)}
    texts = [e.text for e in splits.train + splits.test]
    y = np.array([index[e.label] for e in splits.train + splits.test])
    tr, te = np.arange(len(splits.train)), np.arange(len(splits.train), len(texts))
    b77 = np.array([e.source == "banking77" for e in splits.test])

    enc_cfg = E.EncoderConfig(train_layers=args.train_layers, lora_r=args.lora_r, lora_alpha=2 * args.lora_r)
    train_cfg = E.TrainConfig(epochs=args.epochs, lr=args.lr, label_smoothing=0.1)
    tok, base = E.load_base(base_model_dir())
    first = base.config.num_hidden_layers - enc_cfg.train_layers
    cache = E.cache_bottom(tok, base, texts, frozen_layers=first, max_length=enc_cfg.max_length)
    model = E.add_lora(base, enc_cfg)
    head = E.CosineHead(base.config.hidden_size, len(labels), enc_cfg.logit_scale)
    t1 = time.perf_counter()
    E.train(model, head, cache, tr, y, first=first, cfg=train_cfg, seed=args.seed)
    train_s = time.perf_counter() - t1
    with torch.inference_mode():
        logits = head(torch.from_numpy(E.embed_cached(model, cache, te, first=first))).numpy()
    tfidf = H.fit_tfidf([texts[i] for i in tr], y[tr], len(labels), c=HPARAMS["tfidf_c"], seed=args.seed)
    w = HPARAMS["tfidf_weight"]
    ens = (1 - w) * H.log_softmax(logits) + w * H.log_softmax(H.tfidf_logits(tfidf, [texts[i] for i in te]))
    yt = y[te]
    adapter_params = sum(p.numel() for n, p in model.named_parameters() if "lora_" in n)
    out = {
        "lora_banking77_accuracy": round(float((logits.argmax(1) == yt)[b77].mean()), 4),
        "lora_plus_tfidf_banking77_accuracy": round(float((ens.argmax(1) == yt)[b77].mean()), 4),
        "adapter_params": int(adapter_params), "train_seconds": round(train_s, 1),
        "total_seconds": round(time.perf_counter() - t0, 1), "encoder": asdict(enc_cfg), "train": asdict(train_cfg),
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
