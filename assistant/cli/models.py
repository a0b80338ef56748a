"""`bankassist llm merge` and `models prepare`: the LoRA adapter and packaged models."""

from __future__ import annotations

import argparse
import sys
import time

from assistant.config import Settings


def _models_prepare(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.assets import (
        LLM_REGISTRY,
        resolve_embedding,
        resolve_gguf,
        resolve_llm,
        resolve_onnx_encoder,
        resolve_rerank_model,
    )
    from assistant.config import offline_environment

    offline_environment()
    for name in args.llm or [settings.llm.model]:
        t0 = time.perf_counter()
        path = resolve_llm(name, settings.models_cache)  # transformers (training, BANK_LLM__BACKEND=local)
        gguf = resolve_gguf(name, settings.models_cache) if name in LLM_REGISTRY else None  # llama.cpp
        print(f"{name}: {path}{f' and {gguf}' if gguf else ''} ({time.perf_counter() - t0:.1f} s)")
    model_dir = resolve_embedding(settings.retrieval.embedding_model)
    graphs = [] if settings.retrieval.embedding_runtime == "torch" else [resolve_onnx_encoder(model_dir, settings.models_cache)]
    if graphs and settings.retrieval.embedding_query_int8:
        graphs.append(resolve_onnx_encoder(model_dir, settings.models_cache, int8=True))
    print(f"{settings.retrieval.embedding_model}: {' and '.join(str(p) for p in [model_dir, *graphs])}")
    if settings.retrieval.rerank_model:
        rerank_dir = resolve_rerank_model(settings.retrieval.rerank_model, settings.models_cache)
        graphs = [] if settings.retrieval.embedding_runtime == "torch" else [resolve_onnx_encoder(rerank_dir, settings.models_cache)]
        print(f"{settings.retrieval.rerank_model} (reranker): {' and '.join(str(p) for p in [rerank_dir, *graphs])}")
    return 0


def _llm_merge(settings: Settings, args: argparse.Namespace) -> int:
    from finetune.merge import main as merge_main

    adapter = args.adapter or settings.llm.adapter
    if adapter is None:
        print("no adapter: pass --adapter DIR (BANK_LLM__ADAPTER_PATH is unset or off)", file=sys.stderr)
        return 2
    argv = ["--adapter", str(adapter), "--out", args.out, "--dtype", args.dtype]
    if args.base_model is None:
        from assistant.assets import resolve_llm

        args.base_model = str(resolve_llm(settings.llm.model, settings.models_cache))
    argv += ["--base-model", args.base_model]
    return merge_main(argv + (["--force"] if args.force else []))


def register_llm(sub: argparse._SubParsersAction) -> None:
    llm = sub.add_parser("llm", help="the LLM's LoRA adapter (docs/finetune.md)").add_subparsers(dest="llm_command", required=True)
    p = llm.add_parser("merge", help="merge the LoRA adapter into the base model (a plain HF model dir for serving)")
    p.add_argument("--adapter", help="adapter directory (default: the one the assistant serves)")
    p.add_argument("--out", required=True, help="output model directory")
    p.add_argument("--base-model", help="base model directory (default: BANK_LLM__MODEL in the model cache)")
    p.add_argument("--dtype", choices=("bfloat16", "float16", "float32"), default="bfloat16")
    p.add_argument("--force", action="store_true", help="replace --out when it exists")
    p.set_defaults(func=_llm_merge)


def register_models(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="packaged models").add_subparsers(dest="models_command", required=True)
    p = models.add_parser("prepare", help="join, verify and convert packaged models into the cache")
    p.add_argument("--llm", action="append", help="model name (repeatable); default: BANK_LLM__MODEL")
    p.set_defaults(func=_models_prepare)
