"""Conversation tests as data: what the customer says, and what must follow.

A file is a list of conversations (tests/conversations/*.yaml):

    - name: transfer with a correction
      customer: cus_alex          # signed in with an assertion the sandbox bank signs; omit: anonymous
      turns:
        - user: move $200 from checking to savings
          route: flow_start        # the dialogue manager's route kind
          flow: transfer           # the flow in progress after the reply ("none": no flow)
          awaiting: confirm        # what it waits for: slot | confirm | code | identity
          slot: amount             # which slot, when awaiting one
          reply_contains: ["$200.00"]
          reply_not_contains: ["Reference"]
          path: flow               # the reply's path (faq, extractive, refused, handoff, ...)
          handoff: true            # a person is taking over
        - user: <code>             # the one-time code the sandbox bank sent to the customer (also inside a sentence)
        - user: yes
          identity: forged          # send this kind of bad assertion instead: forged | replayed | other_conversation
          sign_in: cus_alex         # or sign this customer in with this turn
          status: 401              # the HTTP status expected (default 200)
      transfers: 1                 # new transfers in the customer's ledger at the end

`run_conversations(client, banking_url, files)` plays them through POST /v1/chat (a TestClient
or an httpx.Client of a running server) and returns every failed expectation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1)
    identity: Literal["forged", "replayed", "other_conversation"] | None = None
    sign_in: str | None = None  # sign this customer in with this turn (a conversation that started anonymous)
    status: int = 200
    route: str | None = None
    flow: str | None = None
    awaiting: str | None = None
    slot: str | None = None
    path: str | None = None
    handoff: bool | None = None
    verified: bool | None = None
    reply_contains: list[str] = []
    reply_not_contains: list[str] = []
    suggestions_contain: list[str] = []


class Conversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    customer: str | None = None
    turns: list[Turn] = Field(min_length=1)
    transfers: int | None = None


@dataclass(frozen=True)
class Failure:
    file: str
    conversation: str
    turn: int  # 1-based; 0 for end-of-conversation checks
    message: str

    def __str__(self) -> str:
        where = f"turn {self.turn}" if self.turn else "end"
        return f"{self.file} :: {self.conversation} :: {where}: {self.message}"


def load(path: Path) -> list[Conversation]:
    """The file's conversations; ValueError names the file and the conversation that is malformed
    (note that YAML reads a bare yes/no as true/false: quote them)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    out = []
    for i, c in enumerate(data, 1):
        try:
            out.append(Conversation.model_validate(c))
        except ValidationError as exc:
            name = c.get("name", "?") if isinstance(c, dict) else "?"
            raise ValueError(f"{path}: conversation {i} ({name}): {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc
    return out


class SandboxHelpers:
    """The sandbox bank's test helpers over HTTP: assertions, the outbox, the ledger."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=10)

    def assertion(self, customer: str, cid: str) -> str:
        r = self.http.post("/sandbox/assertions", json={"customer_id": customer, "conversation_id": cid})
        r.raise_for_status()
        return r.json()["assertion"]

    def latest_code(self, customer: str) -> str:
        r = self.http.get(f"/sandbox/outbox/{customer}")
        r.raise_for_status()
        sent = r.json()
        return sent[0]["code"] if sent else "000000"

    def reset(self) -> None:
        self.http.post("/sandbox/reset").raise_for_status()

    def transfers(self, customer: str) -> int:
        r = self.http.get(f"/v1/customers/{customer}/transfers")
        r.raise_for_status()
        return len(r.json())


def _check(turn: Turn, status: int, body: dict[str, Any]) -> list[str]:
    if status != turn.status:
        return [f"status {status} != {turn.status}: {str(body)[:200]}"]
    if status != 200:
        return []
    problems = []
    reply, flow = body.get("reply", ""), body.get("flow") or {}
    route = (body.get("route") or {}).get("kind")
    expect = {"route": (turn.route, route), "flow": (turn.flow, flow.get("name") or "none"),
              "awaiting": (turn.awaiting, flow.get("awaiting")), "slot": (turn.slot, flow.get("slot")),
              "path": (turn.path, body.get("path")),
              "handoff": (turn.handoff, bool((body.get("handoff") or {}).get("active"))),
              "verified": (turn.verified, (body.get("customer") or {}).get("verified"))}
    for name, (want, got) in expect.items():
        if want is not None and want != got:
            problems.append(f"{name} {got!r} != {want!r}")
    low = reply.lower()
    problems += [f"reply lacks {s!r}" for s in turn.reply_contains if s.lower() not in low]
    problems += [f"reply has {s!r}" for s in turn.reply_not_contains if s.lower() in low]
    problems += [f"suggestions lack {s!r}" for s in turn.suggestions_contain if s not in body.get("suggestions", [])]
    if problems:
        problems[-1] += f" (reply: {reply[:240]!r})"
    return problems


def run_conversation(client, bank: SandboxHelpers, conv: Conversation, file: str, *, reset: bool = True) -> list[Failure]:
    """One conversation from a freshly seeded bank (`reset`), so no conversation sees another's changes."""
    if reset:
        bank.reset()
    started = client.post("/v1/conversations", json={"channel": "web"})
    if started.status_code != 201:
        return [Failure(file, conv.name, 0, f"could not start a conversation: {started.status_code}")]
    cid, token = started.json()["conversation_id"], started.json()["session_token"]
    headers = {"authorization": f"Bearer {token}"}
    before = bank.transfers(conv.customer) if conv.customer and conv.transfers is not None else 0
    used: str | None = None
    failures = []
    for i, turn in enumerate(conv.turns, 1):
        message = turn.user
        if "<code>" in message and conv.customer:
            message = message.replace("<code>", bank.latest_code(conv.customer))
        body: dict[str, Any] = {"conversation_id": cid, "message": message, "channel": "web"}
        if turn.identity == "forged":
            body["identity"] = bank.assertion(conv.customer or "cus_alex", cid)[:-6] + "AAAAAA"
        elif turn.identity == "replayed":
            body["identity"] = used
        elif turn.identity == "other_conversation":
            body["identity"] = bank.assertion(conv.customer or "cus_alex", "another-conversation")
        elif i == 1 and conv.customer:
            body["identity"] = used = bank.assertion(conv.customer, cid)
        elif turn.sign_in:
            body["identity"] = used = bank.assertion(turn.sign_in, cid)
        r = client.post("/v1/chat", json=body, headers=headers)
        failures += [Failure(file, conv.name, i, p) for p in _check(turn, r.status_code, r.json())]
    if conv.transfers is not None and conv.customer:
        made = bank.transfers(conv.customer) - before
        if made != conv.transfers:
            failures.append(Failure(file, conv.name, 0, f"{made} new transfers, expected {conv.transfers}"))
    return failures


def run_conversations(client, banking_url: str, files: list[Path], *, reset: bool = True) -> tuple[int, list[Failure]]:
    """(conversations run, failures)."""
    bank = SandboxHelpers(banking_url)
    count, failures = 0, []
    for path in files:
        for conv in load(path):
            count += 1
            failures += run_conversation(client, bank, conv, path.name, reset=reset)
    return count, failures


def cli(settings, args) -> int:
    """`bankassist test conversations [FILES]` against a running assistant (make run) and its bank."""
    import sys

    files = [Path(f) for f in args.files] or sorted(Path(args.dir).glob("*.yaml"))
    if not files:
        print(f"no conversation files in {args.dir}", file=sys.stderr)
        return 2
    url = args.url or f"http://{settings.server.host}:{settings.server.port}"
    with httpx.Client(base_url=url, timeout=120) as client:
        try:
            count, failures = run_conversations(client, settings.banking.url, files, reset=not args.no_reset)
        except httpx.HTTPError as exc:
            print(f"cannot reach the assistant at {url} or the bank at {settings.banking.url}: {exc}", file=sys.stderr)
            return 2
    for f in failures:
        print(f"FAIL {f}")
    failed = len({(f.file, f.conversation) for f in failures})
    print(f"{count - failed} passed, {failed} failed")
    return 1 if failed else 0


def register(sub) -> None:
    test = sub.add_parser("test", help="checks of a running assistant").add_subparsers(dest="test_command", required=True)
    p = test.add_parser("conversations", help="play conversation tests (YAML) through POST /v1/chat")
    p.add_argument("files", nargs="*", help="conversation files (default: every *.yaml in --dir)")
    p.add_argument("--dir", default="tests/conversations")
    p.add_argument("--url", help="the assistant (default: BANK_SERVER__HOST:BANK_SERVER__PORT)")
    p.add_argument("--no-reset", action="store_true", help="keep the sandbox bank's state (default: reseed it "
                   "before each conversation, so each starts from the same accounts)")
    p.set_defaults(func=cli)
