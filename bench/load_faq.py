"""Concurrent chat-widget and robot sessions on the FAQ path, over loopback websockets.

    .venv/bin/python bench/load_faq.py [--sessions 50 100 200] [--turns 5] [--think 2.0]

Starts the server in a child process (127.0.0.1, a free port, SmolLM2: the FAQ path never
calls the LLM), then for each N opens N sessions at once (half widget /v1/chat/ws, half
robot /v1/robot), each asking `--turns` FAQ questions with `--think` seconds (jittered)
between them. Reports turn latency p50/p95 (send to final reply) and errors. Bounded: every
session has a deadline and the script stops the server when done.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
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


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")


async def widget_session(url: str, turns: int, think: float, lat: list, errors: list, deadline: float) -> None:
    import websockets

    try:
        async with websockets.connect(url + "/v1/chat/ws", open_timeout=30) as ws:
            cid = None
            for _ in range(turns):
                frame = {"message": random.choice(ASKED), "channel": "web"}
                if cid:
                    frame["conversation_id"] = cid
                t0 = time.perf_counter()
                await ws.send(json.dumps(frame))
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
                    if msg["type"] == "reply":
                        break
                    if msg["type"] == "error":
                        raise RuntimeError(msg)
                lat.append((time.perf_counter() - t0) * 1000)
                cid = msg["conversation_id"]
                if msg["path"] != "faq":
                    errors.append(f"not faq: {msg['path']}")
                await asyncio.sleep(think * random.uniform(0.5, 1.5))
    except Exception as exc:  # counted, reported
        errors.append(repr(exc)[:200])


async def robot_session(url: str, token: str, turns: int, think: float, lat: list, errors: list, deadline: float) -> None:
    import websockets

    try:
        async with websockets.connect(url + "/v1/robot", open_timeout=30) as ws:
            await ws.send(json.dumps({"v": 1, "type": "hello", "token": token}))
            assert json.loads(await ws.recv())["type"] == "session"
            for _ in range(turns):
                t0 = time.perf_counter()
                await ws.send(json.dumps({"v": 1, "type": "text", "text": random.choice(ASKED)}))
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
                    if msg["type"] == "reply":
                        break
                    if msg["type"] == "error":
                        raise RuntimeError(msg)
                lat.append((time.perf_counter() - t0) * 1000)
                if msg["path"] != "faq":
                    errors.append(f"not faq: {msg['path']}")
                await asyncio.sleep(think * random.uniform(0.5, 1.5))
    except Exception as exc:
        errors.append(repr(exc)[:200])


async def round_(url: str, token: str, n: int, turns: int, think: float) -> dict:
    lat: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + 120 + turns * think * 2
    t0 = time.perf_counter()
    await asyncio.gather(*[
        (widget_session(url, turns, think, lat, errors, deadline) if i % 2 == 0
         else robot_session(url, token, turns, think, lat, errors, deadline))
        for i in range(n)
    ])
    wall = time.perf_counter() - t0
    return {"sessions": n, "turns": len(lat), "p50_ms": round(pct(lat, .5), 1), "p95_ms": round(pct(lat, .95), 1),
            "max_ms": round(max(lat, default=0), 1), "errors": len(errors), "turns_per_s": round(len(lat) / wall, 1),
            "first_errors": errors[:3]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--think", type=float, default=2.0)
    args = ap.parse_args()
    global ASKED
    ASKED = faq_variants()
    data = tempfile.mkdtemp(prefix="load-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "BANK_DATA_DIR": data, "BANK_LLM_MODEL": "smollm2-135m", "BANK_LOG_LEVEL": "WARNING",
           "BANK_VOICE_ENABLED": "false", "HF_HUB_OFFLINE": "1"}
    bankassist = str(Path(sys.executable).parent / "bankassist")
    token = subprocess.run([bankassist, "robots", "add", "load-robot", "--branch", "bench"], env=env,
                           capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    server = subprocess.Popen([bankassist, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import httpx

        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        url = f"ws://127.0.0.1:{port}"
        for n in args.sessions:
            print(json.dumps(asyncio.run(round_(url, token, n, args.turns, args.think))), flush=True)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
