"""Base vs tuned on the held-out test split: correctness, faithfulness, refusals, citations, speed.

    python -m finetune.evaluate --adapter var/finetune/runs/qwen05b-lora/adapter \
        [--dataset var/finetune/dataset] [--limit 64] [--out var/finetune/eval.json]

Greedy decoding, both variants from one loaded model (the adapter switched off for "base").
Prints a table and writes JSON with the summary and every reply.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from finetune.adapter import AdapterError, check_adapter, read_card
from finetune.config import DEFAULT_MODELS_DIR, ROOT, offline_environment
from finetune.dataset import DatasetError, end_token_ids, load_split
from finetune.metrics import score, summarize
from finetune.runtime import pick_device_dtype

ROWS = [("correctness", "answer correctness (all key figures)"), ("figure_recall", "key-figure recall"),
        ("faithfulness", "faithfulness (no figure outside context)"), ("correct_refusal_rate", "correct refusal rate"),
        ("false_refusal_rate", "false refusals on answerable"), ("handoff_offer_rate", "hand-off/security: offers agent"),
        ("citation_rate", "citation rate ([n] mark)"), ("citation_correct_rate", "cites the right passage"),
        ("avg_words", "average length (words)"), ("batch_tokens_per_s", "tokens/s, batched eval"),
        ("decode_tokens_per_s", "decode tokens/s, single stream"), ("prefill_tokens_per_s", "prefill tokens/s")]


def resolve_base(base: str | None, adapter: Path | None) -> Path:
    card = read_card(adapter) if adapter else None
    candidates = []
    if base:
        candidates += [Path(base).expanduser(), DEFAULT_MODELS_DIR / base]
    elif card:
        candidates += [Path(card.get("base_model_dir", "")), DEFAULT_MODELS_DIR / card.get("base_model", "")]
    else:
        candidates.append(DEFAULT_MODELS_DIR / "qwen2.5-coder-0.5b")
    for c in candidates:
        if (c / "config.json").exists():
            return c
    raise FileNotFoundError(f"base model not found (tried {', '.join(map(str, candidates))}); "
                            "pass --base-model or run `bankassist models prepare`")


class Runner:
    def __init__(self, base_dir: Path, adapter: Path | None, *, threads: int, dtype: str = "auto") -> None:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(threads)
        self.torch = torch
        self.device, self.dtype = pick_device_dtype("auto", dtype)
        if adapter is not None:
            check_adapter(adapter, AutoConfig.from_pretrained(base_dir))  # before any weights load
        self.tok = AutoTokenizer.from_pretrained(base_dir)
        self.tok.padding_side = "left"
        if self.tok.pad_token_id is None:
            self.tok.pad_token = self.tok.eos_token
        model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=self.dtype).to(self.device)
        if adapter is not None:
            from peft import PeftModel

            check_adapter(adapter, model.config, model)
            model = PeftModel.from_pretrained(model, str(adapter))
        self.model = model.eval()
        self.has_adapter = adapter is not None
        self.eos = sorted(end_token_ids(self.tok))

    def _ctx(self, variant: str):
        import contextlib

        if variant == "base" and self.has_adapter:
            return self.model.disable_adapter()
        return contextlib.nullcontext()

    def prompt_ids(self, ex: dict) -> list[int]:
        from transformers import BatchEncoding

        out = self.tok.apply_chat_template(ex["messages"][:-1], add_generation_prompt=True, tokenize=True, return_dict=True)
        if not isinstance(out, BatchEncoding):
            raise TypeError(f"the chat template gave {type(out).__name__}, not token ids")
        return list(out["input_ids"])

    def generate(self, variant: str, examples: list[dict], *, batch_size: int, max_new_tokens: int, progress=None) -> tuple[list[str], dict]:
        torch = self.torch
        prompts = [self.prompt_ids(ex) for ex in examples]
        order = sorted(range(len(examples)), key=lambda i: len(prompts[i]))
        replies: list[str] = [""] * len(examples)
        new_tokens, t0 = 0, time.perf_counter()
        for start in range(0, len(order), batch_size):
            idx = order[start: start + batch_size]
            batch = self.tok.pad({"input_ids": [prompts[i] for i in idx]}, return_tensors="pt").to(self.device)
            with torch.inference_mode(), self._ctx(variant):
                out = self.model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                          eos_token_id=self.eos, pad_token_id=self.tok.pad_token_id)
            for row, i in zip(out[:, batch["input_ids"].shape[1]:], idx, strict=False):
                ids = [t for t in row.tolist() if t != self.tok.pad_token_id]
                cut = next((k for k, t in enumerate(ids) if t in self.eos), len(ids))
                new_tokens += cut + (cut < len(ids))
                text = self.tok.decode(ids[:cut], skip_special_tokens=True)
                if not isinstance(text, str):
                    raise TypeError("one sequence decodes to one string")
                replies[i] = text.strip()
            if progress:
                progress(len(idx))
        wall = time.perf_counter() - t0
        return replies, {"batch_wall_s": round(wall, 1), "batch_tokens_per_s": round(new_tokens / wall, 2)}

    def speed(self, variant: str, examples: list[dict], max_new_tokens: int) -> dict:
        """Single-stream speed as the runtime sees it: prefill of the prompt, then decode."""
        torch = self.torch
        pre_t = pre_n = dec_t = dec_n = 0.0
        for ex in examples:
            ids = torch.tensor([self.prompt_ids(ex)], device=self.device)
            kw = dict(attention_mask=torch.ones_like(ids), do_sample=False, eos_token_id=self.eos,
                      pad_token_id=self.tok.pad_token_id)
            with torch.inference_mode(), self._ctx(variant):
                t0 = time.perf_counter()
                self.model.generate(ids, max_new_tokens=1, **kw)
                t1 = time.perf_counter()
                out = self.model.generate(ids, max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens, **kw)
                t2 = time.perf_counter()
            n_new = out.shape[1] - ids.shape[1]
            pre_t, pre_n = pre_t + (t1 - t0), pre_n + ids.shape[1]
            dec_t, dec_n = dec_t + max(1e-6, (t2 - t1) - (t1 - t0)), dec_n + n_new - 1
        return {"prefill_tokens_per_s": round(pre_n / pre_t, 1) if pre_t else None,
                "decode_tokens_per_s": round(dec_n / dec_t, 2) if dec_t else None,
                "speed_samples": len(examples)}


def table(results: dict[str, dict]) -> str:
    names = list(results)
    lines = [f"{'metric':42s}" + "".join(f"{n:>10s}" for n in names) + ("     delta" if len(names) == 2 else "")]
    for key, label in ROWS:
        vals = [results[n].get(key) for n in names]
        cells = "".join(f"{v:>10.3f}" if isinstance(v, float) else f"{'-' if v is None else v:>10}" for v in vals)
        delta = ""
        if len(vals) == 2 and isinstance(vals[0], int | float) and isinstance(vals[1], int | float):
            delta = f"{vals[1] - vals[0]:>+10.3f}"
        lines.append(f"{label:42s}{cells}{delta}")
    return "\n".join(lines)


def verdict(base: dict, tuned: dict, margin: float = 0.05) -> dict:
    def better(k):
        return tuned[k] is not None and base[k] is not None and tuned[k] >= base[k] + margin
    refusal_ok = (tuned["correct_refusal_rate"] or 0) >= (base["correct_refusal_rate"] or 0)
    return {"correctness_beats_base": better("correctness"), "faithfulness_beats_base": better("faithfulness"),
            "no_refusal_regression": refusal_ok, "margin": margin,
            "goal_met": better("correctness") and better("faithfulness") and refusal_ok}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m finetune.evaluate", description="base vs tuned on the test split")
    ap.add_argument("--adapter", type=Path, help="adapter directory (omit with --base-only)")
    ap.add_argument("--base-only", action="store_true")
    ap.add_argument("--base-model", help="model name under the cache or a directory (default: the adapter's base)")
    ap.add_argument("--dataset", type=Path, default=ROOT / "var" / "finetune" / "dataset")
    ap.add_argument("--split", default="test")
    ap.add_argument("--limit", type=int, help="first N examples")
    ap.add_argument("--max-new-tokens", type=int, default=96)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--speed-samples", type=int, default=3, help="single-stream speed on this many examples (0: skip)")
    ap.add_argument("--out", type=Path, help="JSON report (default: beside the adapter, eval_<split>.json)")
    args = ap.parse_args(argv)
    offline_environment()
    if not args.adapter and not args.base_only:
        ap.error("--adapter DIR is required (or --base-only)")
    try:
        examples = load_split(args.dataset / f"{args.split}.jsonl")[: args.limit]
        base_dir = resolve_base(args.base_model, args.adapter)
        runner = Runner(base_dir, None if args.base_only else args.adapter, threads=args.threads)
    except (DatasetError, AdapterError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    variants = ["base"] if args.base_only else ["base", "tuned"]
    results, outputs = {}, {}
    for v in variants:
        t0 = time.perf_counter()
        replies, gen = runner.generate(v, examples, batch_size=args.batch_size, max_new_tokens=args.max_new_tokens,
                                       progress=lambda n, v=v: print(f"  {v}: +{n}", file=sys.stderr, flush=True))
        rows = [score(ex, r) for ex, r in zip(examples, replies, strict=False)]
        spd = runner.speed(v, examples[: args.speed_samples], 32) if args.speed_samples else {}
        results[v] = summarize(rows) | gen | spd | {"wall_s": round(time.perf_counter() - t0, 1)}
        outputs[v] = [r | {"reply": reply} for r, reply in zip(rows, replies, strict=False)]
    report = {"base_model": str(base_dir), "adapter": str(args.adapter) if args.adapter else None,
              "dataset": str(args.dataset), "split": args.split, "n": len(examples),
              "max_new_tokens": args.max_new_tokens, "device": str(runner.device),
              "dtype": str(runner.dtype).replace("torch.", ""), "threads": args.threads, "results": results,
              "outputs": outputs, "questions": {ex["id"]: ex["question"] for ex in examples}}
    if len(variants) == 2:
        report["verdict"] = verdict(results["base"], results["tuned"])
    print(table(results))
    if "verdict" in report:
        print(json.dumps(report["verdict"]))
    out = args.out or ((args.adapter.parent if args.adapter else args.dataset) / f"eval_{args.split}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
