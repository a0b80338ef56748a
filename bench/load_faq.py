"""Concurrent chat-widget and robot sessions on the FAQ path, over loopback websockets.

    .venv/bin/python bench/load_faq.py [--sessions 50 100 200] [--turns 5] [--think 2.0] [--ramp 0 2] [--cold] [--retyped]

Starts the server in a child process (127.0.0.1, a free port, SmolLM2: the FAQ path never
calls the LLM), then for each N opens N sessions at once (half widget /v1/chat/ws, half
robot /v1/robot), each asking `--turns` FAQ questions with `--think` seconds (jittered)
between them. Sessions start within `--ramp` seconds: 0 is a burst (every session's first
message in the same instant), 2 spreads arrivals over one think time, like real traffic.
Reports FAQ-path latency p50/p95 (send to final reply), errors (exceptions, error frames,
the error path) and the turns the dialogue policy sent elsewhere (a variant like "can I talk
to a real person" hands off), by path. Rounds share one server (its query-embedding
cache warms over the rounds: "server": "warm"); `--cold` starts a fresh server for every round,
so every question a round asks is new to it. The KB's own FAQ questions reuse their build-time
vectors; `--retyped` changes each question's punctuation so that it costs the encoder.
Bounded: every session has a deadline and the script stops the server when done.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from assistant.config import child_environment  # noqa: E402

# A small fixed set for other benches; this one asks the FAQ question variants written in the KB.
QUESTIONS = [
    "What is your routing number?", "What are your branch hours?", "How do I reset my password?",
    "I lost my debit card", "What is the wire cut-off time?", "How do I activate my card?",
    "What is the overdraft fee?", "How much can I deposit with mobile deposit?", "Is my money FDIC insured?",
    "How do I dispute a charge?", "What's the foreign transaction fee?", "How do I open an account?",
]


def faq_variants() -> list[str]:
    """FAQ question variants that take the FAQ path in any conversation.

    Left out: variants that read as follow-ups ("and for savings?"), which rightly go to
    retrieval once a conversation has history, and the few the guardrails answer instead.
    """
    from assistant.core.guardrails import screen_input
    from assistant.core.rewrite import is_follow_up
    from assistant.privacy import redact
    from knowledge_base.documents import load_directory

    docs = load_directory(ROOT / "knowledge_base" / "docs" / "faq")
    return [q for f in docs.faqs for q in f.questions
            if not is_follow_up(q) and screen_input(q) is None and not redact(q).changed]


ASKED: list[str] = QUESTIONS
RETYPED = False


def ask() -> str:
    """A question to send: one of ASKED; under --retyped with its question mark added or dropped,
    so that the text is not the KB's own (whose vector was computed at build time) and costs the
    encoder the first time the server sees it, while its meaning, and so its FAQ match, stays."""
    q = random.choice(ASKED)
    if not RETYPED:
        return q
    return q[:-1] if q.endswith("?") else q + "?"


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")


def record(msg: dict, t0: float, lat: list, other: Counter) -> None:
    """FAQ-path turns are timed; a turn the dialogue policy sends elsewhere (a hand-off for
    "can I talk to a real person", then the human queue) is counted by path, not as an error."""
    if msg["path"] == "faq":
        lat.append((time.perf_counter() - t0) * 1000)
    else:
        other[msg["path"]] += 1


async def widget_session(url: str, turns: int, think: float, lat: list, errors: list, deadline: float,
                         other: Counter, ramp: float) -> None:
    import websockets

    await asyncio.sleep(random.uniform(0, ramp))
    try:
        async with websockets.connect(url + "/v1/chat/ws", open_timeout=30) as ws:
            cid = None
            for _ in range(turns):
                frame = {"message": ask(), "channel": "web"}
                if cid:
                    frame["conversation_id"] = cid
                t0 = time.perf_counter()
                await ws.send(json.dumps(frame))
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
                    if msg["type"] == "reply":
                        break
                    if msg["type"] == "error" or msg.get("path") == "error":
                        raise RuntimeError(msg)
                record(msg, t0, lat, other)
                cid = msg["conversation_id"]
                await asyncio.sleep(think * random.uniform(0.5, 1.5))
    except Exception as exc:  # counted, reported
        errors.append(repr(exc)[:200])


async def robot_session(url: str, token: str, turns: int, think: float, lat: list, errors: list, deadline: float,
                        other: Counter, ramp: float) -> None:
    import websockets

    await asyncio.sleep(random.uniform(0, ramp))
    try:
        async with websockets.connect(url + "/v1/robot", open_timeout=30) as ws:
            await ws.send(json.dumps({"v": 1, "type": "hello", "token": token}))
            assert json.loads(await ws.recv())["type"] == "session"
            for _ in range(turns):
                t0 = time.perf_counter()
                await ws.send(json.dumps({"v": 1, "type": "text", "text": ask()}))
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
                    if msg["type"] == "reply":
                        break
                    if msg["type"] == "error" or msg.get("path") == "error":
                        raise RuntimeError(msg)
                record(msg, t0, lat, other)
                await asyncio.sleep(think * random.uniform(0.5, 1.5))
    except Exception as exc:
        errors.append(repr(exc)[:200])


async def round_(url: str, token: str, n: int, turns: int, think: float, ramp: float) -> dict:
    lat: list[float] = []
    errors: list[str] = []
    other: Counter = Counter()
    deadline = time.monotonic() + 120 + turns * think * 2
    t0 = time.perf_counter()
    await asyncio.gather(*[
        (widget_session(url, turns, think, lat, errors, deadline, other, ramp) if i % 2 == 0
         else robot_session(url, token, turns, think, lat, errors, deadline, other, ramp))
        for i in range(n)
    ])
    wall = time.perf_counter() - t0
    return {"sessions": n, "ramp_s": ramp, "faq_turns": len(lat), "other_paths": dict(other), "p50_ms": round(pct(lat, .5), 1), "p95_ms": round(pct(lat, .95), 1),
            "max_ms": round(max(lat, default=0), 1), "errors": len(errors), "turns_per_s": round((len(lat) + other.total()) / wall, 1),
            "first_errors": errors[:3]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--think", type=float, default=2.0)
    ap.add_argument("--ramp", type=float, nargs="+", default=[0.0, 2.0],
                    help="sessions start at random times within this many seconds (0: all at the same instant)")
    ap.add_argument("--cold", action="store_true",
                    help="a fresh server for every round: every question is new to its caches (embedding LRU)")
    ap.add_argument("--retyped", action="store_true",
                    help="questions with their '?' added or dropped: texts the KB does not hold, so each costs the encoder")
    args = ap.parse_args()
    global ASKED, RETYPED
    ASKED, RETYPED = faq_variants(), args.retyped
    data = tempfile.mkdtemp(prefix="load-")
    env = child_environment(BANK_STORAGE__DATA_DIR=data, BANK_LLM__MODEL="smollm2-135m", BANK_SERVER__LOG_LEVEL="WARNING",
                            BANK_VOICE__ENABLED="false", BANK_RATE_LIMIT__SESSION="100000/minute",
                            BANK_RATE_LIMIT__WS_CONNECT="100000/minute", BANK_RATE_LIMIT__CONVERSATIONS="100000/minute")
    bankassist = str(Path(sys.executable).parent / "bankassist")
    token = subprocess.run([bankassist, "robots", "add", "load-robot", "--branch", "bench"], env=env,
                           capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    rounds = [(ramp, n) for ramp in args.ramp for n in args.sessions]
    server, url = None, ""
    try:
        for i, (ramp, n) in enumerate(rounds):
            if server is None or args.cold:
                if server is not None:
                    stop(server)
                server, url = start(bankassist, env)
            result = run(round_(url, token, n, args.turns, args.think, ramp))
            result["server"] = "fresh" if args.cold or i == 0 else "warm"
            print(json.dumps(result), flush=True)
    finally:
        if server is not None:
            stop(server)


def run(coro):
    """The load generator shares the two cores with the server: uvloop (installed with uvicorn)
    keeps its share of the CPU small."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def start(bankassist: str, env: dict) -> tuple[subprocess.Popen, str]:
    """The server on a free loopback port, once /healthz says it is ready."""
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([bankassist, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return server, f"ws://127.0.0.1:{port}"


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(10)


if __name__ == "__main__":
    main()
