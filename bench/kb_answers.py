"""End-to-end answer quality on the KB eval set, through POST /v1/chat with the default model.

    .venv/bin/python bench/kb_answers.py [--category regulation|all] [--limit N] [--json out.json]
                                         [--questions knowledge_base/eval/holdout_regulation.yaml]

For every eval question with expected figures (`answer_contains`): does the reply carry
every figure, and does it cite an expected document (an FAQ citation counts through its
answer_doc)? Follow-ups are asked in the conversation of the question they follow (that
question is asked first, unscored, when it is not one of those scored).
`--questions` takes another set: holdout_regulation.yaml was written apart from questions.yaml
and is not used to tune anything, so a change tuned on the first is checked on the second.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.lower().replace(",", ""))


_ORDINALS = {"second": "2", "third": "3", "fourth": "4", "fifth": "5", "sixth": "6", "seventh": "7", "eighth": "8",
             "ninth": "9", "tenth": "10"}
_ORDINAL_RE = re.compile(r"\b(" + "|".join(_ORDINALS) + r")\b", re.I)


def carries(expected: str, reply: str) -> bool:
    """The expected figure is in the reply, verbatim or as the same number in other words
    ("6 months" / "six months", "third business day" / "3 business days"), with its unit word
    ("months") nearby in the reply."""
    from knowledge_base.figures import figures

    # the figure as a whole number: "$50" is not carried by "$500", nor "5%" by "25%"
    if re.search(rf"(?<![\d.]){re.escape(norm(expected))}(?!\d)", norm(reply)):
        return True
    expected, reply = (_ORDINAL_RE.sub(lambda m: _ORDINALS[m.group(1).lower()], t) for t in (expected, reply))
    want = figures(expected)
    unit = re.sub(r"[^a-z]", "", expected.split()[-1].lower()).rstrip("s")
    return bool(want) and want <= figures(reply) and (not unit or unit in reply.lower())


def chat_services(prefix: str):
    """Settings, services and the FAQ-to-document map for replaying eval questions through POST /v1/chat
    (voice off, rate limits out of the way, a throwaway database)."""
    from assistant.config import Settings
    from assistant.logging_setup import configure_logging
    from assistant.services import build_services

    configure_logging("WARNING")
    settings = Settings(
        storage={"data_dir": tempfile.mkdtemp(prefix=prefix)}, voice={"enabled": False},
        rate_limit={"ip": "100000/minute", "session": "100000/minute", "conversations": "100000/minute",
                    "tickets": "100000/minute"},  # hand-offs open tickets: topic_drift opens more than the default allows
    )
    services = build_services(settings)
    answer_doc = {e.faq_id: e.answer_doc for e in services.retriever.faq_entries}
    return settings, services, answer_doc


def cited_docs(reply: dict, answer_doc: dict[str, str | None]) -> set[str | None]:
    """The documents a reply cites; an FAQ citation counts as its answer_doc too."""
    return {c["doc_id"] for c in reply["citations"]} | {answer_doc.get(c["doc_id"]) for c in reply["citations"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--category", default="regulation", choices=["regulation", "all"])
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--questions", type=Path, help="an eval set in questions.yaml's format (default: that file)")
    args = ap.parse_args()

    from fastapi.testclient import TestClient

    from assistant.api.app import create_app
    from knowledge_base.evaluate import load_questions

    settings, services, answer_doc = chat_services("answers-")
    questions = [q for q in (load_questions(args.questions) if args.questions else load_questions()) if q.answer_contains and q.docs
                 and (args.category == "all" or any(d.startswith("reg-") for d in q.docs))]
    if args.limit:
        questions = questions[: args.limit]
    conv: dict[str, str] = {}
    rows, paths = [], Counter()
    with TestClient(create_app(settings, services)) as client:
        for q in questions:
            body, headers = {"message": q.q}, {}
            if q.follow_up_of and q.follow_up_of not in conv:
                # the question it follows is not scored here (no figure, or another category):
                # asked first, unscored, so that the follow-up has its conversation
                r = client.post("/v1/chat", json={"message": q.follow_up_of}).json()
                conv[q.follow_up_of] = (r["conversation_id"], r["session_token"])
            if q.follow_up_of and q.follow_up_of in conv:
                body["conversation_id"], token = conv[q.follow_up_of]
                headers["authorization"] = f"Bearer {token}"  # the customer's session token
            t0 = time.perf_counter()
            r = client.post("/v1/chat", json=body, headers=headers).json()
            conv[q.q] = (r["conversation_id"], r["session_token"] or headers["authorization"][7:])
            cited = cited_docs(r, answer_doc)
            has_figures = all(carries(f, r["reply"]) for f in q.answer_contains)
            rows.append({"q": q.q, "path": r["path"], "figures": has_figures, "cited": bool(cited & set(q.docs)),
                         "seconds": round(time.perf_counter() - t0, 2), "reply": r["reply"][:300]})
            paths[r["path"]] += 1
    n = len(rows)
    both = sum(r["figures"] and r["cited"] for r in rows)
    summary = {"questions": n, "model": services.generator.name, "figure_correct": round(sum(r["figures"] for r in rows) / n, 3),
               "cites_right_doc": round(sum(r["cited"] for r in rows) / n, 3), "both": round(both / n, 3),
               "paths": dict(paths), "mean_seconds": round(sum(r["seconds"] for r in rows) / n, 2)}
    print(json.dumps(summary))
    for r in rows:
        if not (r["figures"] and r["cited"]):
            print(f"  MISS [{r['path']}] fig={r['figures']} cite={r['cited']} {r['q'][:70]!r} -> {r['reply'][:120]!r}")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
