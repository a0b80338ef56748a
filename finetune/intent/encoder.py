"""MiniLM with LoRA on its top layers, trained from cached lower-layer states.

Why cache: on two shared CPU cores a full forward+backward pass over 10k sentences per epoch
is too slow. The bottom layers stay frozen, so their output for each sentence is computed
once; each epoch then runs only the top `train_layers` layers. The LoRA adapter (a few
hundred kB) is what gets saved; the runtime merges it into the packaged base model.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

log = logging.getLogger(__name__)

LORA_TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                "intermediate.dense", "output.dense")


@dataclass(frozen=True)
class EncoderConfig:
    max_length: int = 64
    train_layers: int = 2  # top transformer layers that get LoRA; 0 keeps the encoder frozen
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    logit_scale: float = 20.0  # logits = scale * W . normalised embedding: a cosine classifier


def load_base(model_dir: Path):
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    return tok, model


def add_lora(model, cfg: EncoderConfig):
    """peft LoRA on the top `train_layers` layers only (the ones the cache does not cover)."""
    from peft import LoraConfig, get_peft_model

    n = model.config.num_hidden_layers
    lcfg = LoraConfig(
        r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout, bias="none",
        target_modules=[f"encoder.layer.{i}.{t}" for i in range(n - cfg.train_layers, n) for t in LORA_TARGETS],
    )
    return get_peft_model(model, lcfg)


class CachedStates:
    """Per-sentence hidden states after the frozen bottom layers, stored as float16."""

    def __init__(self, states: list[np.ndarray]) -> None:
        self.states = states
        self.lengths = np.array([len(s) for s in states])

    def batch(self, ids: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        t = int(self.lengths[ids].max())
        h = torch.zeros(len(ids), t, self.states[0].shape[1])
        mask = torch.zeros(len(ids), t)
        for j, i in enumerate(ids):
            n = self.lengths[i]
            h[j, :n] = torch.from_numpy(self.states[i].astype(np.float32))
            mask[j, :n] = 1.0
        return h, mask


@torch.inference_mode()
def cache_bottom(tok, model, texts: list[str], *, frozen_layers: int, max_length: int, batch_size: int = 64) -> CachedStates:
    """Run embeddings + the first `frozen_layers` layers once for every text."""
    enc = tok(texts, truncation=True, max_length=max_length)
    lengths = np.array([len(x) for x in enc["input_ids"]])
    order = np.argsort(lengths, kind="stable")  # similar lengths together: little padding
    states: list[np.ndarray | None] = [None] * len(texts)
    t0 = time.perf_counter()
    for s in range(0, len(texts), batch_size):
        ids = order[s : s + batch_size]
        batch = tok.pad({k: [enc[k][i] for i in ids] for k in ("input_ids", "attention_mask", "token_type_ids")},
                        return_tensors="pt")
        out = model(**batch, output_hidden_states=True)
        hs = out.hidden_states[frozen_layers]
        for j, i in enumerate(ids):
            states[i] = hs[j, : lengths[i]].to(torch.float16).numpy()
    log.info("cached layer-%d states of %d texts in %.0f s", frozen_layers, len(texts), time.perf_counter() - t0)
    filled = [s for s in states if s is not None]
    if len(filled) != len(states):
        raise RuntimeError("a text's hidden states were not computed")
    return CachedStates(filled)


def top_layers(model) -> nn.ModuleList:
    base = model.base_model.model if hasattr(model, "base_model") and hasattr(model.base_model, "model") else model
    return base.encoder.layer


def pooled(layers, h: torch.Tensor, mask: torch.Tensor, first: int) -> torch.Tensor:
    """Top layers from cached states, then mean pooling and L2 norm (as sentence-transformers does)."""
    additive = (1.0 - mask)[:, None, None, :] * torch.finfo(h.dtype).min
    for layer in list(layers)[first:]:
        out = layer(h, additive)
        h = out[0] if isinstance(out, tuple) else out
    emb = (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    return nn.functional.normalize(emb, dim=-1)


class CosineHead(nn.Module):
    def __init__(self, dim: int, n_labels: int, scale: float) -> None:
        super().__init__()
        self.linear = nn.Linear(dim, n_labels)
        self.scale = scale

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        return self.linear(emb * self.scale)


def length_batches(lengths: np.ndarray, ids: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar length: chunks of 50 batches are sorted by length inside."""
    perm = rng.permutation(ids)
    out: list[np.ndarray] = []
    for c in range(0, len(perm), batch_size * 50):
        chunk = perm[c : c + batch_size * 50]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        out += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(out)
    return out


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 4
    batch_size: int = 32
    lr: float = 2e-4
    head_lr: float = 2e-3
    weight_decay: float = 0.01
    label_smoothing: float = 0.0
    warmup: float = 0.06


def train(model, head: CosineHead, cache: CachedStates, ids: np.ndarray, y: np.ndarray, *, first: int,
          cfg: TrainConfig, seed: int, sample_weight: np.ndarray | None = None) -> list[float]:
    """Cross-entropy over all intents; returns the mean loss per epoch."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    layers = top_layers(model)
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(
        [{"params": trainable, "lr": cfg.lr}, {"params": head.parameters(), "lr": cfg.head_lr}],
        weight_decay=cfg.weight_decay,
    )
    steps = cfg.epochs * int(np.ceil(len(ids) / cfg.batch_size))
    warm = max(1, int(cfg.warmup * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / steps))
    yt = torch.from_numpy(y)
    wt = torch.from_numpy(sample_weight.astype(np.float32)) if sample_weight is not None else None
    model.train()
    head.train()
    losses: list[float] = []
    for epoch in range(cfg.epochs):
        t0, total, n = time.perf_counter(), 0.0, 0
        for b in length_batches(cache.lengths, ids, cfg.batch_size, rng):
            h, mask = cache.batch(b)
            logits = head(pooled(layers, h, mask, first))
            loss = nn.functional.cross_entropy(logits, yt[b], label_smoothing=cfg.label_smoothing, reduction="none")
            loss = (loss * wt[b]).sum() / wt[b].sum() if wt is not None else loss.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total, n = total + float(loss.detach()) * len(b), n + len(b)
        losses.append(total / n)
        log.info("epoch %d/%d loss %.4f (%.0f s)", epoch + 1, cfg.epochs, losses[-1], time.perf_counter() - t0)
    model.eval()
    head.eval()
    return losses


@torch.inference_mode()
def embed_cached(model, cache: CachedStates, ids: np.ndarray, *, first: int, batch_size: int = 128) -> np.ndarray:
    layers = top_layers(model)
    order = ids[np.argsort(cache.lengths[ids], kind="stable")]
    out = np.zeros((len(cache.states), model.config.hidden_size), dtype=np.float32)  # what each layer puts out
    for s in range(0, len(order), batch_size):
        b = order[s : s + batch_size]
        h, mask = cache.batch(b)
        out[b] = pooled(layers, h, mask, first).numpy()
    return out[ids]
