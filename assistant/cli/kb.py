"""`bankassist kb build|eval|search`: the knowledge-base index."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from assistant.config import Settings


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


def register(sub: argparse._SubParsersAction) -> None:
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
