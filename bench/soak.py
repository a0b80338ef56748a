"""Soak: moderate mixed load for a fixed time; server memory growth and error rate.

    .venv/bin/python bench/soak.py [--minutes 30] [--sessions 20] [--think 3]

The server runs in a child process on 127.0.0.1 (SmolLM2 for generated turns, so the LLM
does not dominate); sessions loop over FAQ and knowledge-base questions with think time.
RSS of the server is sampled every 30 s. Bounded: stops after --minutes.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_faq import QUESTIONS  # noqa: E402  (and the project root on sys.path)

from assistant.config import child_environment  # noqa: E402

GENERATED = ["How long do I have to dispute a credit card charge?", "What is the penalty for closing a CD early?",
             "How does overdraft protection work?", "When are check deposits available?"]


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def session(url: str, stop: float, think: float, stats: dict) -> None:
    import websockets

    while time.monotonic() < stop:
        try:
            async with websockets.connect(url + "/v1/chat/ws", open_timeout=30) as ws:
                cid = None
                for _ in range(10):
                    if time.monotonic() >= stop:
                        return
                    q = random.choice(GENERATED) if random.random() < 0.2 else random.choice(QUESTIONS)
                    frame = {"message": q, **({"conversation_id": cid} if cid else {})}
                    t0 = time.perf_counter()
                    await ws.send(json.dumps(frame))
                    while (msg := json.loads(await asyncio.wait_for(ws.recv(), 180)))["type"] not in ("reply", "error"):
                        pass
                    if msg["type"] == "error" or msg.get("path") == "error":
                        stats["errors"] += 1
                    else:
                        stats["ok"] += 1
                        stats["lat"].append((time.perf_counter() - t0) * 1000)
                        stats["by_path"].setdefault(msg["path"], []).append(stats["lat"][-1])
                        cid = msg["conversation_id"]
                    await asyncio.sleep(think * random.uniform(0.5, 1.5))
        except Exception:
            stats["errors"] += 1
            await asyncio.sleep(1)


async def run(url: str, pid: int, minutes: float, sessions: int, think: float) -> dict:
    stop = time.monotonic() + minutes * 60
    stats = {"ok": 0, "errors": 0, "lat": [], "by_path": {}}
    samples = []

    async def sampler():
        while time.monotonic() < stop:
            samples.append(round(rss_mib(pid), 1))
            await asyncio.sleep(30)

    await asyncio.gather(sampler(), *[session(url, stop, think, stats) for _ in range(sessions)])
    lat = sorted(stats["lat"])
    warm = samples[min(2, len(samples) - 1)]  # after the first minute: caches filled
    return {"minutes": minutes, "sessions": sessions, "turns": stats["ok"], "errors": stats["errors"],
            "p50_ms": round(lat[len(lat) // 2], 1) if lat else None, "p95_ms": round(lat[int(len(lat) * .95)], 1) if lat else None,
            "rss_start_mib": samples[0], "rss_after_1min_mib": warm, "rss_end_mib": samples[-1],
            "growth_after_warmup_pct": round((samples[-1] - warm) / warm * 100, 1), "rss_samples": samples,
            # generated turns queue on the one local model: 20 closed-loop sessions wait for each other
            "by_path": {p: {"n": len(v), "p50_ms": round(sorted(v)[len(v) // 2], 1), "p95_ms": round(sorted(v)[int(len(v) * .95)], 1)}
                        for p, v in stats["by_path"].items()}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--think", type=float, default=3.0)
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = child_environment(BANK_STORAGE__DATA_DIR=tempfile.mkdtemp(prefix="soak-"), BANK_LLM__MODEL="smollm2-135m",
                            BANK_ANSWERING__MAX_NEW_TOKENS="48", BANK_VOICE__ENABLED="false", BANK_SERVER__LOG_LEVEL="WARNING",
                            BANK_RATE_LIMIT__SESSION="1000/minute",
                            BANK_RATE_LIMIT__WS_CONNECT="100000/minute", BANK_RATE_LIMIT__CONVERSATIONS="100000/minute",
                            BANK_RATE_LIMIT__TICKETS="100000/minute")
    server = subprocess.Popen([str(Path(sys.executable).parent / "bankassist"), "serve", "--port", str(port)], env=env,
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
        print(json.dumps(asyncio.run(run(f"ws://127.0.0.1:{port}", server.pid, args.minutes, args.sessions, args.think))))
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
