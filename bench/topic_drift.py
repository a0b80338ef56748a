"""Does the conversation pull a question off its own subject? Through POST /v1/chat.

    .venv/bin/python bench/topic_drift.py [--seed 7] [--limit N] [--json out.json]

Every answerable eval question that is no follow-up is asked as the second turn of a
conversation whose first turn is another eval question about other documents (seeded pairs).
Prints how many replies cite one of the question's own documents (an FAQ citation counts
through its answer_doc), and the paths. A change to history-aware retrieval (assistant/core/
rewrite.py, `Answerer.retrieve`) should leave this where it was while it helps real follow-ups.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from fastapi.testclient import TestClient

    from assistant.api.app import create_app
    from bench.kb_answers import chat_services, cited_docs
    from knowledge_base.evaluate import load_questions

    settings, services, answer_doc = chat_services("drift-")
    questions = [q for q in load_questions() if q.docs and not q.follow_up_of]
    rng = random.Random(args.seed)
    pairs = [(rng.choice([p for p in questions if not set(p.docs) & set(q.docs)]), q) for q in questions]
    rows, paths = [], Counter()
    with TestClient(create_app(settings, services)) as client:
        for first, q in pairs[: args.limit or None]:
            r = client.post("/v1/chat", json={"message": first.q}).json()
            second = client.post("/v1/chat", json={"message": q.q, "conversation_id": r["conversation_id"]},
                                 headers={"authorization": f"Bearer {r['session_token']}"}).json()
            cited = cited_docs(second, answer_doc)
            rows.append({"first": first.q, "q": q.q, "path": second["path"], "own_doc": bool(cited & set(q.docs)),
                         "reply": second["reply"][:300]})
            paths[second["path"]] += 1
    summary = {"questions": len(rows), "cites_own_doc": sum(r["own_doc"] for r in rows), "paths": dict(paths)}
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
