"""Follow-ups read with the conversation (issue 29): right route and right document, through POST /v1/chat.

    .venv/bin/python bench/followups.py [--split dev|holdout] [--kinds why,swap] [--limit N]
                                        [--model smollm2-135m] [--json out.json] [--misses]

Data: knowledge_base/eval/followups.yaml (built by bench/build_followups.py from the KB eval questions,
BANKING77, SGD, HWU64 and SNIPS; its docstring says which turn came from where). The turns quoted from
those sets are references, read back from --data (default ../shared/data) by bench/followups_refs.py;
without that dir the run stops and names it. Each conversation is
played from its first turn in a conversation of its own (signed in through the sandbox bank where it
names a customer). Per turn:
- route: answer (path faq/extractive/generated), refuse (path refused), flow (a flow route, sign-in
  included), else the path itself (clarify, no_answer, handoff, ...); right when it is one of the
  expected routes (`any` is not scored);
- document: right when the reply cites an expected document (an FAQ citation counts through its
  answer_doc; a flow reply where a flow is expected counts too); scored where documents are expected.
Printed per kind for the follow-up turns (the second and third), the first turns apart; a new topic's
second turn is also asked alone ("new_topic alone"), so that what the conversation changed shows. The holdout
split (40 % of conversations by a hash of their id, fixed before any run) is for final figures only:
its misses are never printed. Answer text does not matter here, so the small test model is the default.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.followups_refs import SharedDataMissing, load_set  # noqa: E402

DEFAULT_SET = Path(__file__).resolve().parent.parent / "knowledge_base" / "eval" / "followups.yaml"
ANSWER_PATHS = {"faq", "extractive", "generated"}


def route_of(body: dict) -> str:
    kind = (body.get("route") or {}).get("kind")
    if kind and kind not in ("knowledge", "handoff"):
        return "flow"
    if body.get("path") in ANSWER_PATHS:
        return "answer"
    return "refuse" if body.get("path") == "refused" else str(body.get("path"))


def score(turn: dict, body: dict, answer_doc: dict) -> dict:
    """route_ok / doc_ok (None where not scored) of one reply against its expectations."""
    want = turn["route"] if isinstance(turn["route"], list) else [turn["route"]]
    got = route_of(body)
    cited = {c["doc_id"] for c in body.get("citations", [])}
    cited |= {answer_doc.get(d) for d in cited} - {None}
    doc_ok = None
    if turn["docs"]:
        doc_ok = bool(cited & set(turn["docs"])) or (got == "flow" and "flow" in want)
    text = body.get("reply", "").lower()
    if turn.get("reply_contains"):
        doc_ok = all(s.lower() in text for s in turn["reply_contains"])
    return {"route": got, "route_ok": None if want == ["any"] else got in want, "doc_ok": doc_ok,
            "path": body.get("path"), "cited": sorted(cited)}


def play(client, bank, conv: dict, answer_doc: dict) -> list[dict]:
    start = client.post("/v1/conversations", json={"channel": "web"}).json()
    cid, headers = start["conversation_id"], {"authorization": f"Bearer {start['session_token']}"}
    out = []
    for i, turn in enumerate(conv["turns"]):
        body = {"conversation_id": cid, "message": turn["user"], "channel": "web"}
        if i == 0 and conv.get("customer"):
            body["identity"] = bank.assertion(conv["customer"], cid)
        r = client.post("/v1/chat", json=body, headers=headers)
        reply = r.json() if r.status_code == 200 else {"path": f"http_{r.status_code}", "citations": []}
        out.append({"user": turn["user"], **score(turn, reply, answer_doc), "reply": reply.get("reply", "")[:160]})
    return out


def rate(flags: list) -> str:
    scored = [f for f in flags if f is not None]
    return f"{sum(scored) / len(scored):.3f} ({sum(scored)}/{len(scored)})" if scored else "-"


def summarise(convs: list[dict], results: dict[str, list[dict]]) -> dict:
    """Rates per split and kind: follow-up turns (2nd, 3rd) and first turns apart."""
    table: dict = defaultdict(lambda: defaultdict(lambda: {"route": [], "doc": []}))
    for c in convs:
        for i, r in enumerate(results[c["id"]]):
            for key in (c["kind"], "ALL"):
                cell = table[(c["split"], "follow-up" if i else "first")][key]
                cell["route"].append(r["route_ok"])
                cell["doc"].append(r["doc_ok"])
            if "alone" in r:  # the same message in a conversation of its own: what the conversation changed
                cell = table[(c["split"], "follow-up" if i else "first")][f"{c['kind']} alone"]
                cell["route"].append(r["alone"]["route_ok"])
                cell["doc"].append(r["alone"]["doc_ok"])
    return {f"{split} {pos}": {k: {"route": rate(v["route"]), "document": rate(v["doc"])} for k, v in sorted(kinds.items())}
            for (split, pos), kinds in sorted(table.items())}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", type=Path, default=DEFAULT_SET)
    ap.add_argument("--data", type=Path, help="../shared/data, where the quoted turns are read (default: BANK_NLU__SHARED_DATA_DIR)")
    ap.add_argument("--split", choices=("dev", "holdout", "all"), default="dev")
    ap.add_argument("--kinds", default="", help="comma-separated kinds (default: all)")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--model", default="smollm2-135m", help="BANK_LLM__MODEL for the run")
    ap.add_argument("--max-new-tokens", type=int, default=24, help="the reply's words do not matter here; fewer is faster")
    ap.add_argument("--bank-port", type=int, default=8221, help="port of the sandbox bank started for signed-in conversations")
    ap.add_argument("--misses", action="store_true", help="print the dev split's misses (never the holdout's)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from fastapi.testclient import TestClient

    from assistant.api.app import create_app
    from assistant.banking.setup import sandbox_config
    from assistant.config import Settings
    from assistant.dialogue.convtest import SandboxHelpers
    from assistant.logging_setup import configure_logging
    from assistant.services import build_services
    from sandbox_bank.app import create_app as bank_app
    from tests.banking_helpers import ServerThread

    kinds = set(filter(None, args.kinds.split(",")))
    try:
        loaded = load_set(args.set, args.data or Settings(_env_file=None).nlu.shared_data_dir)
    except SharedDataMissing as e:
        sys.exit(str(e))
    convs = [c for c in loaded if (args.split == "all" or c["split"] == args.split)
             and (not kinds or c["kind"] in kinds)][: args.limit or None]
    configure_logging("WARNING")
    settings = Settings(
        storage={"data_dir": tempfile.mkdtemp(prefix="followups-")}, voice={"enabled": False},
        llm={"model": args.model}, answering={"max_new_tokens": args.max_new_tokens},
        rate_limit={"ip": "1000000/minute", "session": "1000000/minute", "conversations": "1000000/minute", "tickets": "1000000/minute"},
        banking={"url": f"http://127.0.0.1:{args.bank_port}"},
    )
    services = build_services(settings)
    answer_doc = {e.faq_id: e.answer_doc for e in services.retriever.current.faq._entries.values()}
    results, t0 = {}, time.perf_counter()
    with ServerThread(bank_app(sandbox_config(settings), reset=True), port=args.bank_port), \
            TestClient(create_app(settings, services)) as client:
        bank = SandboxHelpers(settings.banking.url)
        for c in convs:
            results[c["id"]] = play(client, bank, c, answer_doc)
            if c["kind"] == "new_topic":
                results[c["id"]][1]["alone"] = play(client, bank, {"turns": c["turns"][1:]}, answer_doc)[0]
    summary = summarise(convs, results)
    print(json.dumps({"set": str(args.set.name), "split": args.split, "conversations": len(convs), "model": args.model,
                      "seconds": round(time.perf_counter() - t0)}))
    for part, kinds_ in summary.items():
        print(f"{part}:")
        for kind, v in kinds_.items():
            print(f"  {kind:17s} route {v['route']:18s} document {v['document']}")
    if args.misses:
        for c in convs:
            rs = results[c["id"]]
            if c["split"] == "dev" and any(r["route_ok"] is False or r["doc_ok"] is False for r in rs[1:]):
                print(f"MISS {c['id']}: " + " || ".join(f"{r['user'][:60]!r} -> {r['path']} {r['cited'][:3]}" for r in rs))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
