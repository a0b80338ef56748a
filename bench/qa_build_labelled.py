"""Build the conversations of the QA labelled set (tests/qa/labelled/conversations.yaml).

Customer wording comes from BANKING77's training split and SGD's banking dialogues (../shared/data);
every customer turn of a bot part goes through the real assistant (MiniLM, FAISS, the LLM named by
--llm, the sandbox bank over HTTP, identity assertions the bank signs). Agent parts are then played
through the real hand-off routes (login, claim, messages, close): SGD's SYSTEM turns as the agent
(real wording), or the hand-written scripts of bench/qa_labelled/agent_scripts.yaml. The stored
conversations are read back with assistant.qa.transcript.load_transcript and written out.

    python -m bench.qa_build_labelled --out tests/qa/labelled/conversations.yaml

The file stores no data-set text: each message that is a drawn sentence (a customer turn, or an SGD
SYSTEM turn played by the agent) keeps `ref: {set: banking77, row: N}` or `ref: {set: sgd, dialogue:
ID, turn: N}` instead of `text` (bench/dataset_refs.py); bench/qa_agreement.py's load_set rebuilds the
texts from ../shared/data. Our own lines (hand-off phrases, scripts, replies) are stored as text.

Labels are NOT written here: a person reads the output and writes tests/qa/labelled/labels.yaml.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dataset_refs import Ref, with_refs  # noqa: E402

SCRIPTS = ROOT / "bench" / "qa_labelled" / "agent_scripts.yaml"
HUMAN = ["can I talk to a real person", "I want to speak to an agent", "agent please", "let me talk to a human",
         "put me through to someone"]
DISPUTE_CATEGORIES = ["transaction_charged_twice", "card_payment_not_recognised", "extra_charge_on_statement"]
MERCHANTS = ["the amazon one", "Starbucks", "it was at Target", "the Uber charge", "Whole Foods"]
REASONS = {"transaction_charged_twice": "charged twice", "card_payment_not_recognised": "I don't recognise it",
           "extra_charge_on_statement": "it's the wrong amount"}
CUSTOMERS = ["cus_alex", "cus_priya", "cus_jordan"]
PW = "tangerine-ladder-42-build"


Drawn = tuple[Ref, str]  # a data-set sentence and where it lives


def banking77(data: Path) -> dict[str, list[Drawn]]:
    """Category -> (reference, text); row N is the Nth data row of train.csv, 0-based."""
    out: dict[str, list[Drawn]] = {}
    with (data / "banking77" / "train.csv").open(newline="", encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            out.setdefault(row["category"], []).append(({"set": "banking77", "row": i}, row["text"]))
    return out


def sgd_turns(dialogue: dict) -> list[Drawn]:
    return [({"set": "sgd", "dialogue": dialogue["dialogue_id"], "turn": i}, t["utterance"])
            for i, t in enumerate(dialogue["turns"])]


class Builder:
    def __init__(self, client, bank, services, rng: random.Random, b77: dict[str, list[Drawn]]) -> None:
        self.client, self.bank, self.services, self.rng, self.b77 = client, bank, services, rng, b77
        self.drawn: list[Drawn] = []  # the data-set sentences used in the current conversation
        services.agents.add("qa-builder", PW, role=["agent"])
        token = client.post("/v1/agent/login", json={"username": "qa-builder", "password": PW}).json()["token"]
        self.agent = {"authorization": f"Bearer {token}"}

    def start(self, customer: str | None) -> tuple[str, dict, str | None]:
        self.drawn = []
        r = self.client.post("/v1/conversations", json={"channel": "web"}).json()
        return r["conversation_id"], {"authorization": f"Bearer {r['session_token']}"}, customer

    def say(self, conv: tuple[str, dict, str | None], text: str, *, sign_in: bool = False) -> dict:
        cid, headers, customer = conv
        body = {"conversation_id": cid, "message": text, "channel": "web"}
        if sign_in and customer:
            body["identity"] = self.bank.assertion(customer, cid)
        r = self.client.post("/v1/chat", json=body, headers=headers)
        r.raise_for_status()
        return r.json()

    def draw(self, options: list[Drawn]) -> str:
        drawn = self.rng.choice(options)
        self.drawn.append(drawn)
        return drawn[1]

    def text(self, category: str) -> str:
        return self.draw(self.b77[category])

    def hand_off(self, conv) -> int:
        """Ask for a person until a ticket exists; returns its id."""
        for phrase in self.rng.sample(HUMAN, len(HUMAN)):
            reply = self.say(conv, phrase)
            if (reply.get("handoff") or {}).get("active"):
                break
        tickets = [t for t in self.client.get("/v1/agent/tickets", headers=self.agent).json()
                   if t["conversation_id"] == conv[0]]
        if not tickets:
            raise RuntimeError("no ticket after asking for a person")
        return tickets[0]["id"]

    def agent_part(self, conv, ticket: int, turns: list[tuple[str, str]], resolution: str) -> None:
        self.client.post(f"/v1/agent/tickets/{ticket}/claim", headers=self.agent).raise_for_status()
        for who, line in turns:
            if who == "agent":
                self.client.post(f"/v1/agent/tickets/{ticket}/messages", json={"text": line},
                                 headers=self.agent).raise_for_status()
            else:
                self.say(conv, line)
        self.client.post(f"/v1/agent/tickets/{ticket}/close", json={"resolution": resolution},
                         headers=self.agent).raise_for_status()


def faq_conversation(b: Builder, closings: list[Drawn]) -> tuple[str, dict]:
    category = b.rng.choice(sorted(b.b77))
    conv = b.start(None)
    texts = [b.text(category)] + ([b.text(category)] if b.rng.random() < 0.5 else [])
    for t in texts:
        b.say(conv, t)
    if b.rng.random() < 0.4:
        b.say(conv, b.draw(closings))
    return conv[0], {"kind": "faq", "banking77_category": category}


def selfservice_conversation(b: Builder, dialogue: dict) -> tuple[str, dict]:
    conv = b.start(b.rng.choice(CUSTOMERS))
    b.drawn = sgd_turns(dialogue)
    users = [t["utterance"] for t in dialogue["turns"] if t["speaker"] == "USER"][:4]
    for i, u in enumerate(users):
        b.say(conv, u, sign_in=i == 0)
    return conv[0], {"kind": "selfservice", "sgd_dialogue": dialogue["dialogue_id"], "customer": conv[2]}


def dispute_conversation(b: Builder) -> tuple[str, dict]:
    category = b.rng.choice(DISPUTE_CATEGORIES)
    conv = b.start("cus_alex")
    b.say(conv, b.text(category), sign_in=True)
    for line in (b.rng.choice(MERCHANTS), REASONS[category], "yes"):
        b.say(conv, line)
    return conv[0], {"kind": "dispute", "banking77_category": category, "customer": "cus_alex"}


def sgd_agent_conversation(b: Builder, dialogue: dict) -> tuple[str, dict]:
    """The bot gets the customer's first request, then the customer asks for a person and SGD's
    SYSTEM side plays the agent for the whole dialogue."""
    conv = b.start(None)
    b.drawn = sgd_turns(dialogue)
    turns = [("agent" if t["speaker"] == "SYSTEM" else "customer", t["utterance"]) for t in dialogue["turns"]]
    b.say(conv, turns[0][1])
    ticket = b.hand_off(conv)
    b.agent_part(conv, ticket, turns, "resolved")
    return conv[0], {"kind": "sgd_agent", "sgd_dialogue": dialogue["dialogue_id"]}


def scripted_conversation(b: Builder, script: dict) -> tuple[str, dict]:
    sign_in = script["sign_in"] if script["sign_in"] != "any" else b.rng.random() < 0.5
    category = b.rng.choice(script["categories"])
    conv = b.start(b.rng.choice(CUSTOMERS) if sign_in else None)
    opening = b.rng.choice(script["opening"]) if script.get("opening") else b.text(category)
    b.say(conv, opening, sign_in=sign_in)
    ticket = b.hand_off(conv)
    turns = [("agent", t["agent"]) if "agent" in t else ("customer", b.text(category) if t["customer"] == "b77"
                                                        else t["customer"]) for t in script["turns"]]
    b.agent_part(conv, ticket, turns, script["resolution"])
    return conv[0], {"kind": "scripted_agent", "script": script["id"], "banking77_category": category,
                     "signed_in": sign_in}


def export(services, cid: str, number: int, source: dict, split: str, drawn: list[Drawn]) -> dict:
    """The stored conversation; drawn sentences as references (customer and agent lines only)."""
    from assistant.qa.transcript import load_transcript

    with services.conversations._sessions() as s:
        t = load_transcript(s, cid)
    if t is None:
        raise RuntimeError(f"conversation {cid} was not stored")
    data = t.model_dump(mode="json", exclude_none=True)
    data["messages"] = [with_refs(m, drawn) if m["role"] in ("user", "agent") else m for m in data["messages"]]
    data["conversation_id"] = f"qa-{number:03d}"
    return {"id": data["conversation_id"], "split": split, "source": source, "transcript": data}


def build(args: argparse.Namespace) -> list[dict]:
    from fastapi.testclient import TestClient

    from assistant.api.app import create_app
    from assistant.banking.setup import sandbox_config
    from assistant.config import Settings
    from assistant.dialogue.convtest import SandboxHelpers
    from assistant.services import build_services
    from sandbox_bank.app import create_app as bank_app
    from tests.banking_helpers import ServerThread, free_port

    rng = random.Random(args.seed)
    data = Path(args.data) if args.data else Settings().nlu.shared_data_dir
    b77 = banking77(data)
    dialogues = json.loads((data / "sgd" / "banks_train_dialogues.json").read_text())
    rng.shuffle(dialogues)
    closings = [[x for x in sgd_turns(d) if d["turns"][x[0]["turn"]]["speaker"] == "USER"][-1] for d in dialogues[:60]]
    scripts = yaml.safe_load(SCRIPTS.read_text())
    port = free_port()
    settings = Settings(
        _env_file=None, storage={"data_dir": Path(tempfile.mkdtemp(prefix="qa-build-"))}, llm={"model": args.llm},
        banking={"url": f"http://127.0.0.1:{port}"},
        rate_limit={"ip": "100000/minute", "session": "100000/minute", "conversations": "100000/minute", "tickets": "100000/minute"},
        voice={"enabled": False},
    )
    plan = ([("faq", None)] * args.faq + [("selfservice", d) for d in dialogues[60:60 + args.selfservice]]
            + [("dispute", None)] * args.dispute + [("sgd_agent", d) for d in dialogues[100:100 + args.sgd_agent]]
            + [("scripted_agent", s) for s in scripts])
    rng.shuffle(plan)
    holdout = set(rng.sample(range(len(plan)), round(len(plan) * args.holdout)))
    out = []
    with ServerThread(bank_app(sandbox_config(settings), reset=True), port=port):
        services = build_services(settings)
        bank = SandboxHelpers(settings.banking.url)
        with TestClient(create_app(settings, services)) as client:
            b = Builder(client, bank, services, rng, b77)
            for i, (kind, arg) in enumerate(plan):
                bank.reset()
                make = {"faq": lambda _: faq_conversation(b, closings), "selfservice": lambda d: selfservice_conversation(b, d),
                        "dispute": lambda _: dispute_conversation(b), "sgd_agent": lambda d: sgd_agent_conversation(b, d),
                        "scripted_agent": lambda s: scripted_conversation(b, s)}[kind]
                cid, source = make(arg)
                out.append(export(services, cid, i + 1, source, "holdout" if i in holdout else "dev", b.drawn))
                print(f"{i + 1}/{len(plan)} {kind}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "tests" / "qa" / "labelled" / "conversations.yaml"))
    ap.add_argument("--data", default=None, help="the shared data folder (default: BANK_NLU__SHARED_DATA_DIR / Settings)")
    ap.add_argument("--llm", default="qwen2.5-coder-0.5b")
    ap.add_argument("--seed", type=int, default=27)
    ap.add_argument("--faq", type=int, default=20)
    ap.add_argument("--selfservice", type=int, default=8)
    ap.add_argument("--dispute", type=int, default=5)
    ap.add_argument("--sgd-agent", type=int, default=12)
    ap.add_argument("--holdout", type=float, default=0.35)
    args = ap.parse_args()
    convs = build(args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(yaml.safe_dump(convs, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    print(f"{len(convs)} conversations -> {args.out}")


if __name__ == "__main__":
    main()
