"""LoRA fine-tuning of the assistant's LLM on the grounded conversation dataset.

    python -m finetune.train --config finetune/configs/qwen05b-lora.yaml [--smoke] [--resume]

Writes OUTPUT_DIR/adapter/ (peft adapter + bankassist_adapter.json), the exact config
(train_config.yaml) and metrics.json beside it; checkpoints under OUTPUT_DIR/checkpoints/.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import sys
import time
from pathlib import Path

import yaml

from finetune.adapter import write_adapter_card
from finetune.config import ConfigError, TrainConfig, check_target_modules, load_config, offline_environment
from finetune.dataset import DatasetError, Tokenized, end_token_ids, load_split, tokenize_example
from finetune.runtime import Checkpoints, pick_device_dtype

log = logging.getLogger("finetune.train")


def prepare_data(cfg: TrainConfig, tokenizer) -> tuple[list[Tokenized], list[Tokenized], dict]:
    data_dir = cfg.resolved_paths()[0]
    train, val = load_split(data_dir / "train.jsonl"), load_split(data_dir / "val.jsonl")
    rng = random.Random(cfg.seed)
    rng.shuffle(train)
    if cfg.max_train_examples:
        train = train[: cfg.max_train_examples]
    ends = end_token_ids(tokenizer)

    def encode(recs: list[dict]) -> tuple[list[Tokenized], int]:
        out, dropped = [], 0
        for r in recs:
            t = tokenize_example(tokenizer, r["messages"], ends)
            if len(t.input_ids) > cfg.max_length or t.n_target == 0:
                dropped += 1
            else:
                out.append(t)
        return out, dropped

    train_t, drop_t = encode(train)
    val_t, drop_v = encode(val[: cfg.eval_examples])
    if not train_t:
        raise DatasetError(f"no training example fits max_length={cfg.max_length}")
    stats = {"train_examples": len(train_t), "train_dropped_too_long": drop_t, "val_examples": len(val_t),
             "val_dropped_too_long": drop_v, "train_tokens": sum(len(t.input_ids) for t in train_t),
             "train_target_tokens": sum(t.n_target for t in train_t)}
    return train_t, val_t, stats


def example_loss(model, ex: Tokenized, device):
    """Mean cross-entropy over the reply tokens; logits only where there is a label.

    The vocabulary projection is the priciest layer per token (151k outputs for Qwen); the
    prompt's positions need no logits, which saves about a seventh of the step on CPU.
    """
    import torch

    ids = torch.tensor([ex.input_ids], device=device)
    labels = torch.tensor([ex.labels[1:]], device=device)
    causal = model.get_base_model() if hasattr(model, "get_base_model") else model
    body, head = causal.get_decoder(), causal.get_output_embeddings()
    hidden = body(input_ids=ids, use_cache=False).last_hidden_state[:, :-1]
    keep = labels != -100
    logits = head(hidden[keep]).float()
    return torch.nn.functional.cross_entropy(logits, labels[keep])


def evaluate_loss(model, examples: list[Tokenized], device) -> float | None:
    import torch

    if not examples:
        return None
    model.eval()
    with torch.no_grad():
        total = sum(example_loss(model, ex, device).item() for ex in examples)
    model.train()
    return total / len(examples)


# Settings that may change between a run and its resumption (they do not change what was learned).
_RESUMABLE = ("max_steps", "save_every", "keep_checkpoints", "threads", "eval_examples", "smoke")


def _comparable(cfg: dict) -> dict:
    return {k: v for k, v in cfg.items() if k not in _RESUMABLE}


def lr_at(step: int, total: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < cfg.warmup_steps:
        return cfg.learning_rate * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
    return cfg.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def train(cfg: TrainConfig, *, resume: bool = False, progress: bool = True) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model
    from tqdm import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    data_dir, out_dir, _ = cfg.resolved_paths()
    base_dir = cfg.base_model_dir()
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    device, dtype = pick_device_dtype(cfg.device, cfg.dtype)
    ckpts = Checkpoints(out_dir / "checkpoints", keep=cfg.keep_checkpoints)
    state = ckpts.latest_state() if resume else None
    if resume and state is None:
        log.warning("--resume: no checkpoint under %s, starting from the beginning", ckpts.root)
    if state is not None and _comparable(state["config"]) != _comparable(cfg.to_dict()):
        raise ConfigError(f"--resume: the checkpoint in {ckpts.root} was made with a different config; "
                          "start a new output_dir or restore the original config")

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    train_set, val_set, data_stats = prepare_data(cfg, tokenizer)  # dataset errors before the model loads
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=dtype)
    check_target_modules(base, cfg.lora.target_modules)
    base.config.use_cache = False
    model = get_peft_model(base, LoraConfig(
        r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
        target_modules=cfg.lora.target_modules, task_type="CAUSAL_LM", bias="none",
    )).to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(trainable, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)

    per_step = cfg.batch_size * cfg.grad_accum
    total_steps = math.ceil(len(train_set) * cfg.epochs / per_step)
    if cfg.max_steps:
        total_steps = min(total_steps, cfg.max_steps)
    order = [i for e in range(math.ceil(cfg.epochs)) for i in random.Random(cfg.seed + e).sample(range(len(train_set)), len(train_set))]
    step, history, elapsed0 = 0, [], 0.0
    if state is not None:
        ckpts.restore(state, model, optim)
        step, history, elapsed0 = state["step"], state["history"], state["elapsed_s"]
        log.info("resumed from optimizer step %d of %d", step, total_steps)

    model.train()
    t0 = time.perf_counter()
    tokens_seen = 0
    bar = tqdm(total=total_steps, initial=step, desc="lora", unit="step", disable=not progress, dynamic_ncols=True)
    while step < total_steps:
        for g in optim.param_groups:
            g["lr"] = lr_at(step, total_steps, cfg)
        micro = order[step * per_step: (step + 1) * per_step]
        loss_sum = 0.0
        for idx in micro:
            loss = example_loss(model, train_set[idx], device) / len(micro)
            loss.backward()
            loss_sum += loss.item()
            tokens_seen += len(train_set[idx].input_ids)
        torch.nn.utils.clip_grad_norm_(trainable, cfg.max_grad_norm)
        optim.step()
        optim.zero_grad(set_to_none=True)
        step += 1
        history.append({"step": step, "loss": round(loss_sum, 4), "lr": optim.param_groups[0]["lr"]})
        elapsed = time.perf_counter() - t0
        bar.set_postfix(loss=f"{loss_sum:.3f}", tok_s=f"{tokens_seen / elapsed:.0f}")
        bar.update(1)
        if step % cfg.save_every == 0 or step == total_steps:
            ckpts.save(step, model, optim, {"step": step, "history": history, "config": cfg.to_dict(),
                                            "elapsed_s": elapsed0 + elapsed})
    bar.close()
    train_s = time.perf_counter() - t0
    val_loss = evaluate_loss(model, val_set, device)

    adapter_dir = out_dir / "adapter"
    model.save_pretrained(str(adapter_dir))
    tokenizer.save_pretrained(adapter_dir)
    write_adapter_card(adapter_dir, base_dir, cfg.base_model, model.get_base_model().config)
    (out_dir / "train_config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    losses = [h["loss"] for h in history]
    tail = losses[-max(1, len(losses) // 5):]
    metrics = {
        "base_model": cfg.base_model, "device": str(device), "dtype": str(dtype).replace("torch.", ""),
        "threads": cfg.threads, **data_stats, "optimizer_steps": step, "examples_per_step": per_step,
        "examples_trained": min(len(order), step * per_step),
        "first_loss": losses[0] if losses else None, "final_loss_mean_last_20pct": round(sum(tail) / len(tail), 4) if tail else None,
        "val_loss": round(val_loss, 4) if val_loss is not None else None,
        "this_session_s": round(train_s, 1), "total_train_s": round(elapsed0 + train_s, 1),
        "steps_per_s_this_session": round((step - (state["step"] if state else 0)) / train_s, 5) if train_s else None,
        "train_tokens_per_s_this_session": round(tokens_seen / train_s, 1) if train_s else None,
        "trainable_params": sum(p.numel() for p in trainable), "loss_history": history,
    }
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    for name in ("train_config.yaml", "metrics.json"):  # the adapter folder is what ships: keep both inside
        (adapter_dir / name).write_bytes((out_dir / name).read_bytes())
    return metrics


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m finetune.train", description="LoRA fine-tuning (see docs/finetune.md)")
    ap.add_argument("--config", type=Path, default=Path(__file__).parent / "configs" / "qwen05b-lora.yaml")
    ap.add_argument("--smoke", action="store_true", help="tiny model, a few steps (the config's smoke: section)")
    ap.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in output_dir")
    ap.add_argument("--output-dir", help="override output_dir")
    ap.add_argument("--dataset-dir", help="override dataset_dir")
    ap.add_argument("--max-steps", type=int, help="override max_steps")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    offline_environment()
    overrides = {k: v for k, v in {"output_dir": args.output_dir, "dataset_dir": args.dataset_dir,
                                   "max_steps": args.max_steps}.items() if v is not None}
    try:
        cfg = load_config(args.config, smoke=args.smoke, overrides=overrides)
        metrics = train(cfg, resume=args.resume, progress=not args.no_progress)
    except (ConfigError, DatasetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    shown = {k: v for k, v in metrics.items() if k != "loss_history"}
    print(json.dumps(shown, indent=2))
    print(f"adapter written to {cfg.resolved_paths()[1] / 'adapter'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
