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
from dataclasses import dataclass, field
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


@dataclass
class _Run:
    """Where the optimisation stands; a resumed run starts from its checkpoint's step, history and time."""

    total_steps: int
    examples: int  # examples in the epochs' shuffled order
    step: int = 0
    history: list[dict] = field(default_factory=list)
    elapsed0: float = 0.0  # seconds spent before this session
    first_step: int = 0  # where this session started
    tokens_seen: int = 0
    train_s: float = 0.0


def _resume_state(cfg: TrainConfig, ckpts: Checkpoints, resume: bool) -> dict | None:
    state = ckpts.latest_state() if resume else None
    if resume and state is None:
        log.warning("--resume: no checkpoint under %s, starting from the beginning", ckpts.root)
    if state is not None and _comparable(state["config"]) != _comparable(cfg.to_dict()):
        raise ConfigError(f"--resume: the checkpoint in {ckpts.root} was made with a different config; "
                          "start a new output_dir or restore the original config")
    return state


def _lora_model(cfg: TrainConfig, base_dir: Path, device, dtype):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=dtype)
    check_target_modules(base, cfg.lora.target_modules)
    base.config.use_cache = False
    return get_peft_model(base, LoraConfig(
        r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
        target_modules=cfg.lora.target_modules, task_type="CAUSAL_LM", bias="none",
    )).to(device)


def _optimise(cfg: TrainConfig, model, optim, train_set: list[Tokenized], run: _Run, ckpts: Checkpoints,
              device, progress: bool) -> None:
    """Optimizer steps from `run.step` to `run.total_steps`, a checkpoint every `save_every`."""
    import torch
    from tqdm import tqdm

    per_step = cfg.batch_size * cfg.grad_accum
    order = [i for e in range(math.ceil(cfg.epochs)) for i in random.Random(cfg.seed + e).sample(range(len(train_set)), len(train_set))]
    trainable = [p for p in model.parameters() if p.requires_grad]
    model.train()
    t0 = time.perf_counter()
    bar = tqdm(total=run.total_steps, initial=run.step, desc="lora", unit="step", disable=not progress, dynamic_ncols=True)
    while run.step < run.total_steps:
        for g in optim.param_groups:
            g["lr"] = lr_at(run.step, run.total_steps, cfg)
        micro = order[run.step * per_step: (run.step + 1) * per_step]
        loss_sum = 0.0
        for idx in micro:
            loss = example_loss(model, train_set[idx], device) / len(micro)
            loss.backward()
            loss_sum += loss.item()
            run.tokens_seen += len(train_set[idx].input_ids)
        torch.nn.utils.clip_grad_norm_(trainable, cfg.max_grad_norm)
        optim.step()
        optim.zero_grad(set_to_none=True)
        run.step += 1
        run.history.append({"step": run.step, "loss": round(loss_sum, 4), "lr": optim.param_groups[0]["lr"]})
        elapsed = time.perf_counter() - t0
        bar.set_postfix(loss=f"{loss_sum:.3f}", tok_s=f"{run.tokens_seen / elapsed:.0f}")
        bar.update(1)
        if run.step % cfg.save_every == 0 or run.step == run.total_steps:
            ckpts.save(run.step, model, optim, {"step": run.step, "history": run.history, "config": cfg.to_dict(),
                                                "elapsed_s": run.elapsed0 + elapsed})
    bar.close()
    run.train_s = time.perf_counter() - t0


def _metrics(cfg: TrainConfig, run: _Run, data_stats: dict, val_loss: float | None, device, dtype,
             trainable_params: int) -> dict:
    per_step = cfg.batch_size * cfg.grad_accum
    losses = [h["loss"] for h in run.history]
    tail = losses[-max(1, len(losses) // 5):]
    train_s = run.train_s
    return {
        "base_model": cfg.base_model, "device": str(device), "dtype": str(dtype).replace("torch.", ""),
        "threads": cfg.threads, **data_stats, "optimizer_steps": run.step, "examples_per_step": per_step,
        "examples_trained": min(run.examples, run.step * per_step),
        "first_loss": losses[0] if losses else None, "final_loss_mean_last_20pct": round(sum(tail) / len(tail), 4) if tail else None,
        "val_loss": round(val_loss, 4) if val_loss is not None else None,
        "this_session_s": round(train_s, 1), "total_train_s": round(run.elapsed0 + train_s, 1),
        "steps_per_s_this_session": round((run.step - run.first_step) / train_s, 5) if train_s else None,
        "train_tokens_per_s_this_session": round(run.tokens_seen / train_s, 1) if train_s else None,
        "trainable_params": trainable_params, "loss_history": run.history,
    }


def train(cfg: TrainConfig, *, resume: bool = False, progress: bool = True) -> dict:
    import torch
    from transformers import AutoTokenizer

    _, out_dir, _ = cfg.resolved_paths()
    base_dir = cfg.base_model_dir()
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    device, dtype = pick_device_dtype(cfg.device, cfg.dtype)
    ckpts = Checkpoints(out_dir / "checkpoints", keep=cfg.keep_checkpoints)
    state = _resume_state(cfg, ckpts, resume)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    train_set, val_set, data_stats = prepare_data(cfg, tokenizer)  # dataset errors before the model loads
    model = _lora_model(cfg, base_dir, device, dtype)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(trainable, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    total_steps = math.ceil(len(train_set) * cfg.epochs / (cfg.batch_size * cfg.grad_accum))
    run = _Run(min(total_steps, cfg.max_steps) if cfg.max_steps else total_steps,
               examples=math.ceil(cfg.epochs) * len(train_set))
    if state is not None:
        ckpts.restore(state, model, optim)
        run.step, run.history, run.elapsed0 = state["step"], state["history"], state["elapsed_s"]
        run.first_step = run.step
        log.info("resumed from optimizer step %d of %d", run.step, run.total_steps)
    _optimise(cfg, model, optim, train_set, run, ckpts, device, progress)
    val_loss = evaluate_loss(model, val_set, device)
    adapter_dir = out_dir / "adapter"
    model.save_pretrained(str(adapter_dir))
    tokenizer.save_pretrained(adapter_dir)
    write_adapter_card(adapter_dir, base_dir, cfg.base_model, model.get_base_model().config)
    (out_dir / "train_config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    metrics = _metrics(cfg, run, data_stats, val_loss, device, dtype, sum(p.numel() for p in trainable))
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
