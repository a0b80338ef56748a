"""Retrieval evaluation on knowledge_base/eval/questions.yaml: hit@1, hit@5, MRR, false confidence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge_base.rerank import SentenceReranker
from knowledge_base.retriever import HybridRetriever

DEFAULT_QUESTIONS = Path(__file__).resolve().parent / "eval" / "questions.yaml"
MODES = ("dense", "bm25", "hybrid")


@dataclass(frozen=True)
class EvalQuestion:
    q: str
    docs: tuple[str, ...]
    follow_up_of: str | None = None
    answer_contains: tuple[str, ...] = ()


@dataclass
class ModeResult:
    mode: str
    answerable: int = 0
    hit1: float = 0.0
    hit5: float = 0.0
    mrr: float = 0.0
    unanswerable: int = 0
    false_confident: float = 0.0  # unanswerable questions whose best passage passes the relevance bar
    missed_confident: float = 0.0  # answerable questions whose best passage does not


def load_questions(path: Path = DEFAULT_QUESTIONS) -> list[EvalQuestion]:
    rows = yaml.safe_load(path.read_text())
    return [EvalQuestion(r["q"], tuple(r.get("docs") or ()), r.get("follow_up_of"), tuple(r.get("answer_contains") or ()))
            for r in rows]


def evaluate(
    retriever: HybridRetriever, questions: list[EvalQuestion], *, min_relevance: float,
    rewrite: Callable[[str, list[str]], str] = lambda q, prev: q, k: int = 5, modes=MODES,
    reranker: SentenceReranker | None = None,
) -> list[ModeResult]:
    """A hit is a passage from an expected doc, or an FAQ entry whose answer_doc is expected.

    With a reranker, mode "reranked" is the hybrid top k in the reranker's order (what a quoted
    answer reads); its relevance bar stays the dense score's, as at run time.
    """
    answer_doc = {e.faq_id: e.answer_doc for e in retriever.faq._entries.values()}
    results = []
    for mode in (*modes, "reranked") if reranker is not None else modes:
        r = ModeResult(mode)
        for question in questions:
            query = rewrite(question.q, [question.follow_up_of] if question.follow_up_of else [])
            hits = retriever.search(query, k=k, mode="hybrid" if mode == "reranked" else mode)
            best = max((p.score for p in hits), default=0.0)
            if mode == "reranked" and reranker is not None and hits:
                hits = [p for _, p in reranker.rank(query, hits)]
            if not question.docs:
                r.unanswerable += 1
                r.false_confident += best >= min_relevance
                continue
            r.answerable += 1
            r.missed_confident += best < min_relevance
            want = set(question.docs)
            found = [i for i, p in enumerate(hits) if p.doc_id in want or answer_doc.get(p.doc_id) in want]
            if found:
                r.hit1 += found[0] == 0
                r.hit5 += found[0] < 5
                r.mrr += 1.0 / (found[0] + 1)
        n, u = max(r.answerable, 1), max(r.unanswerable, 1)
        r.hit1, r.hit5, r.mrr = r.hit1 / n, r.hit5 / n, r.mrr / n
        r.false_confident, r.missed_confident = r.false_confident / u, r.missed_confident / n
        results.append(r)
    return results


def format_table(results: list[ModeResult]) -> str:
    lines = [f"{'mode':8s} {'hit@1':>6s} {'hit@5':>6s} {'MRR':>6s} {'false-conf':>10s} {'missed':>7s}  (n={results[0].answerable} answerable, {results[0].unanswerable} unanswerable)"]
    for r in results:
        lines.append(f"{r.mode:8s} {r.hit1:6.3f} {r.hit5:6.3f} {r.mrr:6.3f} {r.false_confident:10.3f} {r.missed_confident:7.3f}")
    return "\n".join(lines)
