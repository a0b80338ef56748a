"""Merge a LoRA adapter into its base model: one plain HF model directory for serving.

    python -m finetune.merge --adapter assistant/llm/adapters/qwen05b-bank-v1 --out var/models/qwen05b-bank-v1
    (also: bankassist llm merge ...)

The merged directory loads anywhere a HF model does: BANK_LLM__MODEL=<dir> with no adapter, vLLM
(`vllm serve <dir>`), or a GGUF conversion for llama.cpp. Weights are merged in float32 and
saved in --dtype (bfloat16 by default, the size of the base).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from finetune.adapter import AdapterError, check_adapter, read_card
from finetune.config import offline_environment
from finetune.evaluate import resolve_base


def merge(adapter: Path, out: Path, *, base: str | None = None, dtype: str = "bfloat16", force: bool = False) -> Path:
    import torch
    from peft import PeftModel
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    base_dir = resolve_base(base, adapter)
    check_adapter(adapter, AutoConfig.from_pretrained(base_dir))
    if out.exists() and any(out.iterdir()):
        if not force:
            raise FileExistsError(f"{out} exists and is not empty (use --force to replace it)")
        shutil.rmtree(out)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    check_adapter(adapter, model.config, model)
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    merged = merged.to(getattr(torch, dtype))
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    merged.save_pretrained(tmp)
    AutoTokenizer.from_pretrained(base_dir).save_pretrained(tmp)
    card = read_card(adapter) or {}
    (tmp / "bankassist_merged.json").write_text(json.dumps(
        {"base_model": str(base_dir), "adapter": str(adapter), "adapter_card": card, "dtype": dtype,
         "merged_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=2))
    tmp.rename(out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m finetune.merge", description="merge a LoRA adapter into its base model")
    ap.add_argument("--adapter", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--base-model", help="model name under the cache or a directory (default: the adapter's base)")
    ap.add_argument("--dtype", choices=("bfloat16", "float16", "float32"), default="bfloat16")
    ap.add_argument("--force", action="store_true", help="replace --out when it exists")
    args = ap.parse_args(argv)
    offline_environment()
    try:
        path = merge(args.adapter, args.out, base=args.base_model, dtype=args.dtype, force=args.force)
    except (AdapterError, FileNotFoundError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"merged model written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
