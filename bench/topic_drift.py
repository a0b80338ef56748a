"""Does the conversation pull a question off its own subject? Through POST /v1/chat.

    .venv/bin/python bench/topic_drift.py [--seed 7] [--json out.json]

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
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from fastapi.testclient import TestClient

    from assistant.api.app import create_app
    from assistant.config import Settings
    from assistant.logging_setup import configure_logging
    from assistant.services import build_services
    from knowledge_base.evaluate import load_questions

    configure_logging("WARNING")
    settings = Settings(data_dir=tempfile.mkdtemp(prefix="drift-"), voice_enabled=False,
                        rate_limit_ip="100000/minute", rate_limit_session="100000/minute")
    services = build_services(settings)
    answer_doc = {e.faq_id: e.answer_doc for e in services.retriever.current.faq._entries.values()}
    questions = [q for q in load_questions() if q.docs and not q.follow_up_of]
    rng = random.Random(args.seed)
    rows, paths = [], Counter()
    with TestClient(create_app(settings, services)) as client:
        for q in questions:
            first = rng.choice([p for p in questions if not set(p.docs) & set(q.docs)])
            r = client.post("/v1/chat", json={"message": first.q}).json()
            second = client.post("/v1/chat", json={"message": q.q, "conversation_id": r["conversation_id"]},
                                 headers={"authorization": f"Bearer {r['session_token']}"}).json()
            cited = {c["doc_id"] for c in second["citations"]} | {answer_doc.get(c["doc_id"]) for c in second["citations"]}
            rows.append({"first": first.q, "q": q.q, "path": second["path"], "own_doc": bool(cited & set(q.docs)),
                         "reply": second["reply"][:300]})
            paths[second["path"]] += 1
    summary = {"questions": len(rows), "cites_own_doc": sum(r["own_doc"] for r in rows), "paths": dict(paths)}
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
