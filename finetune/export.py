"""Copy a trained adapter into a small folder for shipping: bf16 weights, its card, config, metrics,
and the same adapter as a llama.cpp LoRA GGUF (adapter.gguf, float16).

    python -m finetune.export --adapter var/finetune/runs/qwen05b-lora/adapter \
        --out assistant/llm/adapters/qwen05b-bank-v1 [--eval var/finetune/runs/qwen05b-lora/eval_test.json]

The tokenizer is left out (the base model has it) and the LoRA matrices are stored in bf16,
halving the size; the runtime computes in bf16 anyway.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from finetune import gguf_lora
from finetune.adapter import CARD, AdapterError, check_adapter

KEEP = ("adapter_config.json", CARD, "train_config.yaml", "metrics.json")


def export(adapter: Path, out: Path, *, dtype: str = "bfloat16", eval_report: Path | None = None) -> Path:
    import torch
    from safetensors.torch import load_file, save_file

    card = check_adapter(adapter, json.loads((adapter / CARD).read_text())["architecture"]) if (adapter / CARD).exists() \
        else check_adapter(adapter, {})
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tensors = load_file(str(adapter / "adapter_model.safetensors"))
    save_file({k: v.to(getattr(torch, dtype)).contiguous() for k, v in tensors.items()}, str(tmp / "adapter_model.safetensors"),
              metadata={"format": "pt"})
    for name in KEEP:
        if (adapter / name).exists():
            shutil.copy2(adapter / name, tmp / name)
    if eval_report is not None:
        report = json.loads(eval_report.read_text())
        slim = {k: v for k, v in report.items() if k not in ("outputs", "questions")}
        (tmp / "eval_test.json").write_text(json.dumps(slim, indent=2))
    if card:
        card = {**card, "exported_dtype": dtype}
        (tmp / CARD).write_text(json.dumps(card, indent=2))
        gguf_lora.convert(tmp, tmp / "adapter.gguf")  # the same adapter for the llama.cpp backend
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m finetune.export", description="ship an adapter (bf16, no tokenizer)")
    ap.add_argument("--adapter", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--dtype", choices=("bfloat16", "float16", "float32"), default="bfloat16")
    ap.add_argument("--eval", type=Path, help="evaluation JSON to keep beside it (replies left out)")
    args = ap.parse_args(argv)
    try:
        path = export(args.adapter, args.out, dtype=args.dtype, eval_report=args.eval)
    except (AdapterError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    size = sum(f.stat().st_size for f in path.iterdir())
    print(f"exported {path} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
