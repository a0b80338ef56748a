"""Self-service flow turns: their own cost, and a mixed load of 200 concurrent sessions.

    .venv/bin/python bench/flow_latency.py [--turns 60] [--sessions 200] [--flow-share 0.3] [--think 2] [--ramp 2]
                                           [--skip-own] [--skip-load]

Part 1 (in process): signed-in flow turns (balance; transfer started, confirmed) through the
pipeline against the sandbox bank over HTTP; prints p50/p95 of each turn's time minus the time
spent waiting for the bank (measured around every BankingBackend call), i.e. the assistant's own cost.
Part 2 (child processes: the API and the sandbox bank, as `make run` starts them): --sessions
sessions at once over REST (arriving over --ramp s, --think s between messages, as bench/load_faq.py),
--flow-share of them signed in and doing a transfer with confirmation and a balance check, the rest
asking FAQ questions; prints p50/p95 per turn (bank time included), per kind, and the errors.
SmolLM2 serves (the flow and FAQ paths never call the LLM). Bounded: deadlines on every request.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import subprocess
import sys
import tempfile
import time
from contextvars import ContextVar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BANK_TIME: ContextVar[list[float]] = ContextVar("bank_time")
FAQ = ["What is your routing number?", "What are your branch hours?", "What is the wire cut-off time?",
       "What is the overdraft fee?", "Is my money FDIC insured?", "How do I reset my password?"]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")


class TimedBackend:
    """The real backend, with the time spent in each call added to the current turn's BANK_TIME."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def __getattr__(self, name):
        method = getattr(self.inner, name)

        async def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            finally:
                BANK_TIME.get().append(time.perf_counter() - t0)
        return timed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def own_cost(turns: int) -> None:
    import httpx

    from assistant.banking.setup import sandbox_config
    from assistant.config import Settings
    from assistant.core.events import UserTurn
    from assistant.core.pipeline import complete
    from assistant.logging_setup import configure_logging
    from assistant.services import build_services
    from sandbox_bank.app import create_app as bank_app
    from tests.banking_helpers import ServerThread

    configure_logging("WARNING")
    settings = Settings(
        _env_file=None, storage={"data_dir": tempfile.mkdtemp(prefix="flow-bench-")}, llm={"model": "smollm2-135m"},
        voice={"enabled": False}, banking={"url": f"http://127.0.0.1:{free_port()}"},
        rate_limit={"session": "100000/minute", "conversations": "100000/minute"},
    )
    with ServerThread(bank_app(sandbox_config(settings), reset=True), port=int(settings.banking.url.rsplit(":", 1)[1])):
        services = build_services(settings)
        actions = services.selfservice.runner.actions
        actions.backend = TimedBackend(actions.backend)
        bank = httpx.Client(base_url=settings.banking.url)
        own: list[float] = []
        whole: list[float] = []

        conversations = []
        for _ in range(turns // 3):  # set up before timing: a conversation and its signed identity each
            cid, _ = services.conversations.start_session("web")
            conversations.append((cid, bank.post("/sandbox/assertions", json={"customer_id": "cus_alex",
                                                                              "conversation_id": cid}).json()))

        async def run() -> None:
            for i, (cid, who) in enumerate(conversations):
                for j, text in enumerate(("what's my balance?", "move $1 from checking to savings", "yes")):
                    spent: list[float] = []
                    BANK_TIME.set(spent)
                    t0 = time.perf_counter()
                    await complete(services.pipeline, UserTurn(text, "web", cid, customer_id=(
                        services.identity.verify(who["assertion"], cid).customer_id if j == 0 else None)))
                    took = time.perf_counter() - t0
                    if i > 0:  # the first round warms caches
                        whole.append(took * 1000)
                        own.append((took - sum(spent)) * 1000)

        asyncio.run(run())
    print(f"flow turns in process ({len(own)} after warm-up): own cost p50 {pct(own, .5):.0f} ms, "
          f"p95 {pct(own, .95):.0f} ms; with the bank p50 {pct(whole, .5):.0f} ms, p95 {pct(whole, .95):.0f} ms")


async def session(http, bank, flow: bool, deadline: float, lat: dict[str, list[float]], errors: list[str],
                  think: float, ramp: float) -> None:
    """One customer: arrives within `ramp` s, waits `think` s (jittered) between messages, like load_faq.py.
    A flow session signs in and moves $1 with a read-back, then checks a balance and asks a question."""
    async def turn(kind: str, body: dict, headers: dict | None = None) -> dict | None:
        t0 = time.perf_counter()
        try:
            r = await http.post("/v1/chat", json=body, headers=headers or {}, timeout=max(deadline - time.monotonic(), 1))
        except Exception as exc:  # noqa: BLE001 (counted, whatever it is)
            errors.append(type(exc).__name__)
            return None
        lat.setdefault(kind, []).append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200 or r.json().get("path") == "error":
            errors.append(str(r.status_code))
            return None
        await asyncio.sleep(think * random.uniform(0.5, 1.5))
        return r.json()

    await asyncio.sleep(random.uniform(0, ramp))
    if not flow:
        first = await turn("faq", {"message": random.choice(FAQ)})
        for _ in range(3):
            if first:
                await turn("faq", {"message": random.choice(FAQ), "conversation_id": first["conversation_id"]},
                           {"authorization": f"Bearer {first['session_token']}"})
        return
    start = (await http.post("/v1/conversations", json={"channel": "web"})).json()
    auth = {"authorization": f"Bearer {start['session_token']}"}
    who = (await bank.post("/sandbox/assertions", json={"customer_id": random.choice(["cus_alex", "cus_priya"]),
                                                          "conversation_id": start["conversation_id"]})).json()
    body = {"conversation_id": start["conversation_id"]}
    if await turn("flow", {**body, "message": "move $1 from checking to savings", "identity": who["assertion"]}, auth):
        await turn("flow", {**body, "message": "yes"}, auth)
        await turn("flow", {**body, "message": "what's my checking balance?"}, auth)
        await turn("faq", {**body, "message": random.choice(FAQ)}, auth)


def load(sessions: int, share: float, think: float, ramp: float) -> None:
    import httpx

    from assistant.config import child_environment

    data = tempfile.mkdtemp(prefix="flow-load-")
    api, bank_port = free_port(), free_port()
    env = child_environment(
        BANK_STORAGE__DATA_DIR=data, BANK_LLM__MODEL="smollm2-135m", BANK_VOICE__ENABLED="false",
        BANK_BANKING__URL=f"http://127.0.0.1:{bank_port}", BANK_SERVER__LOG_LEVEL="WARNING", BANK_RATE_LIMIT__IP="100000/minute",
        BANK_RATE_LIMIT__CONVERSATIONS="100000/minute", BANK_RATE_LIMIT__WS_CONNECT="100000/minute",
        BANK_RATE_LIMIT__SESSION="100000/minute")
    cli = [sys.executable, "-m", "assistant.cli"]
    procs = [subprocess.Popen([*cli, "sandbox", "serve", "--port", str(bank_port)], env=env, cwd=ROOT),
             subprocess.Popen([*cli, "serve", "--port", str(api)], env=env, cwd=ROOT)]
    try:
        deadline = time.monotonic() + 600
        while not (_up(api) and httpx.get(f"http://127.0.0.1:{api}/healthz").status_code == 200):
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not start")
            time.sleep(1)
        lat: dict[str, list[float]] = {}
        errors: list[str] = []

        async def run() -> None:
            limits = httpx.Limits(max_connections=sessions * 2)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api}", limits=limits) as http, \
                    httpx.AsyncClient(base_url=f"http://127.0.0.1:{bank_port}") as bank:
                end = time.monotonic() + 300
                await asyncio.gather(*(session(http, bank, random.random() < share, end, lat, errors, think, ramp)
                                       for _ in range(sessions)))

        t0 = time.perf_counter()
        asyncio.run(run())
        every = [x for xs in lat.values() for x in xs]
        took = time.perf_counter() - t0
        print(f"{sessions} concurrent sessions ({share:.0%} in a transfer flow; think {think} s, arrivals over {ramp} s), "
              f"{len(every)} turns in {took:.0f} s ({len(every) / took:.0f} turns/s): p50 {pct(every, .5):.0f} ms, "
              f"p95 {pct(every, .95):.0f} ms, errors {len(errors)} {sorted(set(errors))[:5]}")
        for kind, xs in sorted(lat.items()):
            print(f"  {kind} turns: {len(xs)}, p50 {pct(xs, .5):.0f} ms, p95 {pct(xs, .95):.0f} ms")
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


def _up(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--turns", type=int, default=60)
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--flow-share", type=float, default=0.3)
    ap.add_argument("--think", type=float, default=2.0, help="seconds between a session's messages (jittered)")
    ap.add_argument("--ramp", type=float, default=2.0, help="sessions arrive over this many seconds (0: a burst)")
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument("--skip-own", action="store_true")
    args = ap.parse_args()
    random.seed(7)
    if not args.skip_own:
        own_cost(args.turns)
    if not args.skip_load:
        load(args.sessions, args.flow_share, args.think, args.ramp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
