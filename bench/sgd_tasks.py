"""Task success on public multi-turn banking dialogues, replayed against the sandbox bank.

    .venv/bin/python bench/sgd_tasks.py [--split dev|holdout|all] [--limit N] [--json out.json]
                                        [--data ../shared/data/sgd/banks_train_dialogues.json]

Data: Schema-Guided Dialogue (Rastogi et al. 2020, CC-BY-SA-4.0), the 727 dialogues with the Banks_1
service. Each task is a stretch of a dialogue where the user asks to check a balance or transfer
money and the original system carried it out (its service call gives the goal: account type,
amount, recipient). The bench plays the user's first message of each task through POST /v1/chat
as a signed-in customer, then answers what the assistant asks from the goal (a recipient, an
amount, an account; "yes" to a read-back; the one-time code from the sandbox outbox) and checks
the sandbox ledger: a balance task succeeds when the reply states the available balance of the
goal's account type; a transfer task when exactly one transfer of the goal's amount went to a payee
with the goal's recipient name, from the goal's account type (checking when it names none).
Recipients become saved payees of a fresh bench customer per dialogue.

Split: a dialogue is in `holdout` when sha256(dialogue_id) % 5 == 0 (a fifth, looked at only for
final figures); `dev` is the rest. Nothing in the flows was written from these dialogues.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sgd" / "banks_train_dialogues.json"
INTENTS = {"CheckBalance", "TransferMoney"}
MAX_TURNS = 8  # answers the bench gives to one task before it counts as failed


def split_of(dialogue_id: str) -> str:
    return "holdout" if int(hashlib.sha256(dialogue_id.encode()).hexdigest(), 16) % 5 == 0 else "dev"


def tasks(dialogue: dict) -> list[dict]:
    """Each banking task the original system completed: its first user message, the goal, user turns."""
    out, current = [], None
    for turn in dialogue["turns"]:
        acts = turn.get("actions", [])
        if turn["speaker"] == "USER":
            started = next((a["values"][0] for a in acts if a["act"] == "INFORM_INTENT" and a["values"]), None)
            if started:
                current = {"intent": started, "first": turn["utterance"], "informs": {}, "goal": None}
                out.append(current)
            if current is not None:
                for a in acts:
                    if a["act"] == "INFORM" and a["slot"]:
                        current["informs"].setdefault(a["slot"], turn["utterance"])
        # a balance: the first call answers the request as first put; a transfer: the last call is the one made
        elif current is not None and turn.get("service_call", {}).get("method") == current["intent"] and (
                current["goal"] is None or current["intent"] == "TransferMoney"):
            current["goal"] = turn["service_call"]["parameters"]
    return [t for t in out if t["intent"] in INTENTS and t["goal"] is not None]


def cents(amount: str) -> int:
    return round(float(re.sub(r"[^\d.]", "", amount)) * 100)


class Bench:
    def __init__(self, client, bank_http, sandbox, db) -> None:
        self.client, self.client_bank, self.cfg, self.db = client, bank_http, sandbox, db
        self.n = 0

    def customer(self, recipients: set[str]) -> str:
        """A fresh customer with checking and savings and the dialogue's recipients as payees."""
        from sandbox_bank import ledger
        from sandbox_bank import models as m

        self.n += 1
        cid, short = f"cus_sgd{self.n}", f"sgd{self.n}"
        now = self.cfg.now() - timedelta(days=1)
        with self.db.transaction() as s:
            s.add(m.Customer(id=cid, name=f"Bench Customer {self.n}", email=f"b{self.n}@example.com",
                             phone=f"+1555999{self.n:04d}"))
            for kind, opening in (("checking", 5_000_000), ("savings", 8_000_000)):
                acc = f"acc_{short}_{kind[:3]}"
                s.add(m.LedgerAccount(id=acc, customer_id=cid, kind=kind, name=kind.title(),
                                      number=f"9{self.n:05d}{len(kind):04d}"[-10:], currency="USD"))
                s.flush()
                entry = ledger.post(s, kind="deposit", description="Opening deposit", at=now,
                                    legs=[(acc, opening), (ledger.GL_FUNDING, -opening)])
                s.add(m.Txn(id=f"txn_{short}_{kind[:3]}", customer_id=cid, account_id=acc, created_at=now,
                            posted_at=now, status="posted", kind="deposit", amount_cents=opening, currency="USD",
                            description="Opening deposit", entry_id=entry.id))
            for i, name in enumerate(sorted(recipients), 1):
                s.add(m.Payee(id=f"pay_{short}_{i}", customer_id=cid, name=name, nickname=None,
                              bank_name="Other Bank", account_number=f"55{self.n:04d}{i:03d}"))
        return cid

    def chat(self, cid: str, token: str, message: str, identity: str | None = None) -> dict:
        body = {"conversation_id": cid, "message": message, "channel": "web"}
        if identity:
            body["identity"] = identity
        r = self.client.post("/v1/chat", json=body, headers={"authorization": f"Bearer {token}"})
        return r.json() if r.status_code == 200 else {"reply": f"HTTP {r.status_code}", "flow": None}

    def answer(self, task: dict, wanted: dict, customer: str, reply: str = "") -> str:
        goal, informs = task["goal"], task["informs"]
        slot = wanted.get("slot")
        if wanted.get("awaiting") == "confirm":  # a read-back that differs from the goal is corrected, as a user would
            said = reply.lower()
            if "recipient_account_name" in goal and goal["recipient_account_name"].lower() not in said:
                return f"no, to {goal['recipient_account_name']}"
            if "amount" in goal and f"${cents(goal['amount']) / 100:,.2f}" not in reply:
                return f"no, make it {goal['amount'] if goal['amount'].startswith('$') else '$' + goal['amount']}"
            if goal.get("account_type", "checking") not in said.split(" to ")[0]:
                return f"no, from my {goal.get('account_type', 'checking')}"
            return "yes"
        if wanted.get("awaiting") == "code":
            r = self.client_bank.get(f"/sandbox/outbox/{customer}")
            return r.json()[0]["code"] if r.status_code == 200 and r.json() else "000000"
        if slot == "to":
            return informs.get("recipient_account_name") or (
                f"to {goal['recipient_account_name']}" if "recipient_account_name" in goal else "never mind")
        if slot == "amount":
            return informs.get("amount") or goal.get("amount") or "never mind"  # a question the goal has no answer to
        if slot in ("from_account", "account"):
            return informs.get("account_type") or f"from my {goal.get('account_type', 'checking')}"
        return "yes"

    def run_task(self, task: dict, customer: str, cid: str, token: str, identity: str | None) -> tuple[bool, int]:
        before = self.ledger(customer)
        body, turns = self.chat(cid, token, task["first"], identity), 1
        task["transcript"] = [task["first"], body.get("reply", "")]
        while body.get("flow") and body["flow"].get("awaiting") not in (None, "identity") and turns < MAX_TURNS:
            said = self.answer(task, body["flow"], customer, body.get("reply", ""))
            body = self.chat(cid, token, said)
            task["transcript"] += [said, body.get("reply", "")]
            turns += 1
        after = self.ledger(customer)
        goal = task["goal"]
        if task["intent"] == "CheckBalance":
            kind = goal.get("account_type", "checking")
            want = next(a for a in after["accounts"] if a["type"] == kind)["available"]["amount_cents"]
            return f"${want / 100:,.2f}" in body.get("reply", ""), turns
        new = [t for t in after["transfers"] if t["id"] not in {x["id"] for x in before["transfers"]}]
        if len(new) != 1:
            return False, turns
        t, payees = new[0], {p["id"]: p["name"] for p in self.payees(customer)}
        source = {a["id"]: a["type"] for a in after["accounts"]}.get(t["from_account_id"])
        ok = (t["amount"]["amount_cents"] == cents(goal["amount"]) and payees.get(t.get("payee_id")) ==
              goal["recipient_account_name"] and source == goal.get("account_type", "checking"))
        return ok, turns

    def ledger(self, customer: str) -> dict:
        accounts = self.client_bank.get(f"/v1/customers/{customer}/accounts").json()
        transfers = self.client_bank.get(f"/v1/customers/{customer}/transfers").json()
        return {"accounts": accounts, "transfers": transfers}

    def payees(self, customer: str) -> list[dict]:
        return self.client_bank.get(f"/v1/customers/{customer}/payees").json()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--split", choices=("dev", "holdout", "all"), default="dev")
    ap.add_argument("--limit", type=int, default=0, help="dialogues (0: all of the split)")
    ap.add_argument("--json", type=Path, help="write every task's outcome here")
    ap.add_argument("--show-failures", type=int, default=10)
    ap.add_argument("--dialogues", help="comma-separated dialogue ids to replay (a dev failure read again)")
    args = ap.parse_args()
    if not args.data.exists():
        print(f"no data at {args.data} (../shared/data/sgd)", file=sys.stderr)
        return 2
    dialogues = [d for d in json.loads(args.data.read_text()) if args.split == "all" or split_of(d["dialogue_id"]) == args.split]
    if args.dialogues:
        dialogues = [d for d in dialogues if d["dialogue_id"] in set(args.dialogues.split(","))]
    if args.limit:
        dialogues = dialogues[: args.limit]

    import httpx
    from fastapi.testclient import TestClient

    from assistant.api.app import create_app
    from assistant.banking.setup import sandbox_config
    from assistant.config import Settings
    from assistant.logging_setup import configure_logging
    from assistant.services import build_services
    from sandbox_bank.app import create_app as bank_app
    from sandbox_bank.db import Database
    from tests.banking_helpers import ServerThread, free_port

    configure_logging("WARNING")
    settings = Settings(
        _env_file=None, storage={"data_dir": tempfile.mkdtemp(prefix="sgd-bench-")}, voice={"enabled": False},
        llm={"model": "smollm2-135m"},
        rate_limit={"ip": "1000000/minute", "session": "1000000/minute", "conversations": "1000000/minute", "tickets": "1000000/minute"},
        banking={"url": f"http://127.0.0.1:{free_port()}"},
    )
    cfg = dataclasses.replace(sandbox_config(settings), daily_payee_limit_cents=10**12)  # SGD amounts run large
    db = Database(cfg.sqlalchemy_url)
    port = int(settings.banking.url.rsplit(":", 1)[1])
    results, failures = [], []
    with ServerThread(bank_app(cfg, db=db, reset=True), port=port), \
            TestClient(create_app(settings, build_services(settings))) as client:
        bench = Bench(client, httpx.Client(base_url=settings.banking.url, timeout=10), cfg, db)
        t0 = time.perf_counter()
        for d in dialogues:
            todo = tasks(d)
            if not todo:
                continue
            recipients = {t["goal"]["recipient_account_name"] for t in todo if "recipient_account_name" in t["goal"]}
            customer = bench.customer(recipients)
            for task in todo:  # each task in a conversation of its own: one task's hand-off does not silence the next
                start = client.post("/v1/conversations", json={"channel": "web"}).json()
                cid, token = start["conversation_id"], start["session_token"]
                identity = bench.client_bank.post("/sandbox/assertions", json={"customer_id": customer,
                                                                              "conversation_id": cid}).json()["assertion"]
                ok, turns = bench.run_task(task, customer, cid, token, identity)
                results.append({"dialogue": d["dialogue_id"], "intent": task["intent"], "ok": ok, "turns": turns,
                                "first": task["first"], "goal": task["goal"], "transcript": task["transcript"]})
                if not ok:
                    failures.append(results[-1])
        elapsed = time.perf_counter() - t0
    by = Counter((r["intent"], r["ok"]) for r in results)
    print(f"SGD Banks_1 ({args.split} split, {len(dialogues)} dialogues, {len(results)} tasks, {elapsed:.0f} s)")
    for intent in sorted(INTENTS):
        n = by[(intent, True)] + by[(intent, False)]
        if n:
            turns = [r["turns"] for r in results if r["intent"] == intent and r["ok"]]
            print(f"  {intent:14s} success {by[(intent, True)] / n:.3f} ({by[(intent, True)]}/{n}), "
                  f"user turns per successful task {sum(turns) / max(len(turns), 1):.2f}")
    total = sum(r["ok"] for r in results)
    print(f"  all            success {total / max(len(results), 1):.3f} ({total}/{len(results)})")
    for f in failures[: args.show_failures]:
        print(f"  FAIL {f['dialogue']} {f['intent']}: {f['first']!r} goal={f['goal']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
