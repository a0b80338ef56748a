"""Generation speed of the in-process backends on the same weights: transformers (base, + LoRA
adapter, merged) and llama.cpp (base GGUF, + the adapter as LoRA GGUF).

    .venv/bin/python bench/llm_speed.py [--adapter DIR] [--n 4] [--threads 1] [--variants ...] [--out var/bench/llm_speed.json]

Prompts are real RAG prompts from the fine-tuning test split (system prompt + passages), streamed
through the same `stream()` the dialogue core uses, so first-token time includes prefill and
the system-prompt KV-cache reuse. Reports time to first token and decode tokens/s per variant,
and how many replies are word-for-word those of the transformers variant with the same adapter.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.config import offline_environment  # noqa: E402

offline_environment()

from assistant.assets import resolve_gguf, resolve_llm  # noqa: E402
from assistant.config import DEFAULT_LLM_ADAPTER, Settings  # noqa: E402
from assistant.llm import ChatMessage, GenerationRequest  # noqa: E402
from assistant.llm.llamacpp import LlamaCppGenerator  # noqa: E402
from assistant.llm.local import LocalLoraGenerator  # noqa: E402


def requests(dataset: Path, n: int, max_new_tokens: int) -> list[GenerationRequest]:
    rows = [json.loads(line) for line in (dataset / "test.jsonl").read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r["kind"] == "answer"][:n]
    return [GenerationRequest(tuple(ChatMessage(m["role"], m["content"]) for m in r["messages"][:-1]),
                              max_new_tokens=max_new_tokens) for r in rows]


async def measure(gen, reqs: list[GenerationRequest], tokenizer) -> dict:
    firsts, rates, lengths, texts = [], [], [], []
    await _drain(gen, reqs[0])  # warm-up: fills the system-prompt cache as a running server has it
    for req in reqs:
        t0 = time.perf_counter()
        first, text = None, ""
        async for piece in gen.stream(req):
            first = first or time.perf_counter()
            text += piece
        end = time.perf_counter()
        n = len(tokenizer(text, add_special_tokens=False)["input_ids"])
        texts.append(text)
        firsts.append(first - t0)
        lengths.append(n)
        if n > 1:
            rates.append((n - 1) / (end - first))
    return {"first_token_s": round(statistics.median(firsts), 3), "decode_tokens_per_s": round(statistics.median(rates), 2),
            "reply_tokens_mean": round(statistics.mean(lengths), 1), "n": len(reqs), "replies": texts}


async def _drain(gen, req) -> None:
    async for _ in gen.stream(req):
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--adapter", type=Path, default=DEFAULT_LLM_ADAPTER)
    ap.add_argument("--dataset", type=Path, default=ROOT / "var" / "finetune" / "dataset")
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--variants", default="base,adapter,merged,llamacpp-base,llamacpp-adapter")
    ap.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "llm_speed.json")
    args = ap.parse_args()
    settings = Settings(_env_file=None)
    model_dir = resolve_llm(settings.llm.model, settings.models_cache)
    reqs = requests(args.dataset, args.n, args.max_new_tokens)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    results = {}
    for variant in args.variants.split(","):
        adapter = None if variant.endswith("base") else args.adapter
        if variant.startswith("llamacpp"):
            gen = LlamaCppGenerator(resolve_gguf(settings.llm.model, settings.models_cache), adapter_path=adapter,
                                    threads=args.threads, timeout_s=600)
        else:
            gen = LocalLoraGenerator(model_dir, adapter_path=adapter, threads=args.threads, timeout_s=600)
        if variant == "merged":
            gen.model = gen.model.merge_and_unload().eval()  # what `bankassist llm merge` produces
            gen._prefix = None
        r = results[variant] = asyncio.run(measure(gen, reqs, tokenizer))
        twin = results.get({"llamacpp-base": "base", "llamacpp-adapter": "adapter"}.get(variant, ""))
        if twin:
            r["same_replies_as_transformers"] = sum(a == b for a, b in zip(r["replies"], twin["replies"], strict=False))
        print(f"{variant:17s} first token {r['first_token_s']:.2f} s, decode {r['decode_tokens_per_s']:.2f} tok/s, "
              f"{r['reply_tokens_mean']:.0f} tokens/reply"
              + (f", {r['same_replies_as_transformers']}/{r['n']} replies identical to transformers" if twin else ""),
              flush=True)
        del gen
    report = {"model": str(model_dir), "adapter": str(args.adapter), "threads": args.threads,
              "max_new_tokens": args.max_new_tokens, "load_avg": os.getloadavg(), "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
