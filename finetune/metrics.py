"""Scores for one generated reply against its example, and their summary over a test set.

- correct: an answerable question's reply states every key figure of the reference answer
- faithful: the reply states no figure that its passages lack (the runtime guard's rule)
- refusal: the reply says it does not have the information (or that the topic is out of scope)
- cited: the reply carries a [n] mark naming a passage that holds the answer
"""

from __future__ import annotations

import re

from knowledge_base.figures import supported, unsupported_figures

_REFUSAL = re.compile(
    r"(?:don'?t|do not|don’t) have (?:that|this|any|the|enough|specific|information|details)"
    r"|(?:no|not have) (?:information|details) (?:about|on)|only help with banking|can only help"
    r"|(?:can'?t|cannot|can not|unable to) (?:help|answer|assist) with (?:that|this)"
    r"|\bI (?:don'?t|do not) know\b|not (?:able|something I can) (?:to )?(?:answer|help)",
    re.I,
)
_AGENT = re.compile(r"\bagents?\b|representative|connect you|speak (?:to|with) (?:someone|a person)", re.I)
_MARK = re.compile(r"\[(\d{1,2})\]")


def is_refusal(reply: str) -> bool:
    return bool(_REFUSAL.search(reply))


def score(example: dict, reply: str) -> dict:
    evidence = [p["text"] for p in example["passages"]] + [p["title"] for p in example["passages"]]
    bad = unsupported_figures(reply, evidence)
    refused = is_refusal(reply)
    answerable = not example["refuse"] and bool(example["key_figures"])
    row = {"id": example["id"], "kind": example["kind"], "answerable": answerable, "refused": refused,
           "faithful": not bad, "unsupported": bad, "words": len(reply.split()),
           "offers_agent": bool(_AGENT.search(reply))}
    if answerable:
        have = supported([reply])
        keys = example["key_figures"]
        hits = [k for k in keys if k in have]
        marks = {int(m) for m in _MARK.findall(reply)}
        row |= {"correct": len(hits) == len(keys), "figure_recall": len(hits) / len(keys),
                "cited_any": bool(marks), "cited_gold": bool(marks & set(example["gold"]))}
    return row


def _rate(rows: list[dict], key: str) -> float | None:
    vals = [r[key] for r in rows if key in r]
    return round(sum(vals) / len(vals), 4) if vals else None


def summarize(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    must_refuse = [r for r in rows if r["kind"] in ("unanswerable", "out_of_scope")
                   or (r["kind"] == "multi_turn" and not r["answerable"])]
    handoff = [r for r in rows if r["kind"] in ("handoff", "security")]
    return {
        "n": len(rows), "n_answerable": len(answerable), "n_must_refuse": len(must_refuse),
        "correctness": _rate(answerable, "correct"),
        "figure_recall": _rate(answerable, "figure_recall"),
        "faithfulness": _rate(rows, "faithful"),
        "faithfulness_answerable": _rate(answerable, "faithful"),
        "correct_refusal_rate": _rate([{"x": r["refused"]} for r in must_refuse], "x"),
        "false_refusal_rate": _rate([{"x": r["refused"]} for r in answerable], "x"),
        "handoff_offer_rate": _rate([{"x": r["offers_agent"]} for r in handoff], "x"),
        "citation_rate": _rate(answerable, "cited_any"),
        "citation_correct_rate": _rate(answerable, "cited_gold"),
        "avg_words": round(sum(r["words"] for r in rows) / len(rows), 1) if rows else None,
    }
