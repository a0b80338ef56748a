"""The second opinion for unsure messages: an MLP over [MiniLM, all-mpnet-base-v2] beside the TF-IDF head.

mpnet already runs in the product as the reranker of quoted answers (45 ms a message on one core with
torch, less in ONNX), too slow for every message but affordable for the few whose top intent is unsure:
`below` is the calibrated top probability under which a message asks it, chosen on validation as the
lowest of `BELOW` that reaches the best validation accuracy (fewest messages pay for the same accuracy).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from finetune.intent import heads as H
from finetune.intent.model import IntentModel, SecondOpinion

ENCODER = "all-mpnet-base-v2"
BELOW = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def encoder_dir(cache_dir: Path) -> Path:
    """The packaged mpnet, unpacked once under the product's model cache (as the reranker finds it)."""
    from assistant.assets.models import resolve_rerank_model

    return resolve_rerank_model(ENCODER, cache_dir)


def fit_second(model: IntentModel, train: tuple[np.ndarray, np.ndarray], y: np.ndarray,
               val: tuple[np.ndarray, np.ndarray, list[str]], y_val: np.ndarray, banking77_val: np.ndarray,
               *, cfg: H.MlpConfig, seed: int) -> SecondOpinion:
    """Train the MLP on [MiniLM, mpnet] rows; its temperature and `below` from validation alone."""
    mlp = H.fit_mlp(np.concatenate(train, axis=1), y, len(model.labels), cfg, seed=seed)
    emb, emb2, texts = val
    z2 = replace(model, second=SecondOpinion(ENCODER, mlp, 1.0, 1.0)).second_logits(emb, emb2, texts)
    temperature = H.fit_temperature(z2, y_val)
    z1 = model.raw_logits(emb, texts)
    top1, pred1, pred2 = H.softmax(z1 / model.temperature).max(1), z1.argmax(1), z2.argmax(1)

    def accuracy(below: float) -> float:
        pred = np.where(top1 < below, pred2, pred1)
        return float((pred == y_val)[banking77_val].mean())

    best = max(accuracy(b) for b in BELOW)
    below = min(b for b in BELOW if accuracy(b) >= best)
    return SecondOpinion(ENCODER, mlp, below, temperature)


def with_second(model: IntentModel, enc: dict, splits, cache_dir: Path | None, models_cache: Path,
                *, cfg: H.MlpConfig, seed: int) -> IntentModel:
    """The model with its second opinion; mpnet vectors of the train/val/test rows land in enc[k].emb2."""
    from finetune.intent.data import banking_weight
    from finetune.intent.embed import embed_texts

    model_dir = encoder_dir(models_cache)
    for k in ("train", "val", "test"):
        enc[k] = replace(enc[k], emb2=embed_texts(enc[k].texts, model_dir=model_dir, cache_dir=cache_dir, name="mpnet"))
    index = {name: i for i, name in enumerate(model.labels)}
    y_tr = np.array([index[e.label] for e in splits.train])
    y_va = np.array([index[e.label] for e in splits.val])
    b_va = np.array([banking_weight(e) for e in splits.val])
    second = fit_second(model, (enc["train"].emb, enc["train"].emb2), y_tr, (enc["val"].emb, enc["val"].emb2, enc["val"].texts),
                        y_va, b_va, cfg=cfg, seed=seed)
    return replace(model, second=second)
