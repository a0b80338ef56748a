"""Voice-to-voice latency over scripted phone calls, and how many calls run at once.

    .venv/bin/python bench/voice_latency.py [--calls 30] [--generated 30] [--max-concurrency 8] [--json out.json]

The app runs under uvicorn on 127.0.0.1 (in this process, models on one thread each); the
callers run in a second process, each a `websockets` client speaking the Twilio Media Streams
protocol. The caller's
question (Piper speech, 8 kHz mu-law) is streamed in real time, 20 ms a frame, followed by
silence frames; voice-to-voice latency is the wall time from the last voiced frame sent to
the first outbound media frame received: end-of-turn detection + ASR + dialogue + TTS of
the first words. Outbound audio is "played" in real time (marks echoed when due, as Twilio
does) for HOLD_AFTER_S, then the caller hangs up.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import socket
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from assistant.config import offline_environment  # noqa: E402

offline_environment()

from chat_latency import GENERATED, PLAIN_FAQ, faq_questions, pct  # noqa: E402

FRAME = 160
HOLD_AFTER_S = 2.0  # the caller listens this long to the answer (played in real time), then hangs up


def phone_audio(tts, text: str) -> tuple[bytes, float]:
    """mu-law of a spoken question and the time its voice ends (Piper pads with silence)."""
    from voice.audio import PHONE_RATE, float_to_pcm16, pcm16_to_float, resample, ulaw_encode

    s = tts.synthesize_all(text)
    pcm = float_to_pcm16(resample(pcm16_to_float(s.pcm16), s.sample_rate, PHONE_RATE))
    frames = pcm[: len(pcm) // FRAME * FRAME].reshape(-1, FRAME).astype(np.float32)
    voiced = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > 300)
    end_s = (voiced[-1] + 1) * FRAME / PHONE_RATE if len(voiced) else len(pcm) / PHONE_RATE
    return ulaw_encode(pcm), end_s


import websockets  # noqa: E402


async def dial(port: int, call_sid: str) -> tuple[str, str]:
    """What Twilio does first: POST the webhook, read the call token of <Stream>. (conversation id, token)"""
    import re

    import httpx
    import jwt

    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(f"http://127.0.0.1:{port}/v1/voice/twiml", data={"CallSid": call_sid})
    r.raise_for_status()
    token = re.search(r'<Parameter name="call_token" value="([^"]+)"', r.text).group(1)
    return jwt.decode(token, options={"verify_signature": False})["cid"], token  # the bench only reads its own call's id


async def call(port: int, call_sid: str, ulaw: bytes, voice_end_s: float, timeout: float = 60.0) -> tuple[str, float | None]:  # noqa: ASYNC109
    """One call, dialled first (a call token lives two minutes). (conversation id, latency or None)"""
    cid, token = await dial(port, call_sid)
    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/voice/twilio", max_size=2**20) as ws:
        state = {"first_media": None, "listening": False, "last_msg": time.monotonic(), "marks": 0, "play_end": 0.0,
                 "voice_end": float("inf")}
        loop = asyncio.get_running_loop()

        async def echo(mark) -> None:
            state["marks"] += 1
            with contextlib.suppress(websockets.ConnectionClosed):  # the caller already hung up
                await ws.send(json.dumps({"event": "mark", "streamSid": "MZb", "mark": mark}))

        async def reader() -> None:
            async for raw in ws:
                msg = json.loads(raw)
                now = state["last_msg"] = time.monotonic()
                if msg["event"] == "media":
                    if state["listening"] and state["first_media"] is None and now > state["voice_end"]:
                        state["first_media"] = now  # (audio before the question ended is greeting residue)
                    speed = 1.0 if state["listening"] else 50.0  # the greeting is skipped through
                    n = len(base64.b64decode(msg["media"]["payload"]))
                    state["play_end"] = max(state["play_end"], now) + n / 8000 / speed
                elif msg["event"] == "mark":  # echoed when the audio before it has played, as Twilio does
                    loop.call_later(max(0.0, state["play_end"] - now), lambda m=msg["mark"]: asyncio.ensure_future(echo(m)))

        task = asyncio.create_task(reader())
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(json.dumps({"event": "start", "streamSid": "MZb", "start": {
            "streamSid": "MZb", "callSid": call_sid, "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000},
            "customParameters": {"call_token": token}}}))
        # The greeting, played fast: this polls for quiet on the line, not for an event.
        while state["marks"] == 0 or time.monotonic() - state["last_msg"] < 1.0:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        silence = b"\xff" * FRAME
        frames = [ulaw[i : i + FRAME] for i in range(0, len(ulaw), FRAME)]
        t0 = time.monotonic()
        state["listening"] = True
        voice_end_wall = state["voice_end"] = t0 + voice_end_s
        i = 0
        hang_up_at = None
        while time.monotonic() - t0 < timeout:
            if state["first_media"] is not None:
                hang_up_at = hang_up_at or state["first_media"] + HOLD_AFTER_S
                if time.monotonic() >= hang_up_at:
                    break
            chunk = frames[i] if i < len(frames) else silence
            await ws.send(json.dumps({"event": "media", "streamSid": "MZb", "media": {"payload": base64.b64encode(chunk).decode()}}))
            i += 1
            await asyncio.sleep(max(0.0, t0 + i * 0.02 - time.monotonic()))  # real time, no drift
        first = state["first_media"]
        await ws.send(json.dumps({"event": "stop", "streamSid": "MZb", "stop": {}}))
        task.cancel()
    return cid, None if first is None else first - voice_end_wall


def faq_path_audio(services, tts, n: int) -> list[tuple[bytes, float]]:
    """Spoken FAQ questions whose phone-quality transcript still matches an FAQ entry."""
    from voice.audio import PHONE_RATE, pcm16_to_float, resample, ulaw_decode

    picked = []
    for q in PLAIN_FAQ + faq_questions(services, 200):
        ulaw, end_s = phone_audio(tts, q)
        text = services.voice.asr.transcribe(resample(pcm16_to_float(ulaw_decode(ulaw)), PHONE_RATE, 16000)).text
        faqs = services.retriever.faq_candidates(services.retriever.embed(text), 1) if text else []
        if faqs and faqs[0].score >= services.settings.answering.faq_threshold + 0.02:
            picked.append((ulaw, end_s))
        if len(picked) >= n:
            break
    return (picked * (n // max(1, len(picked)) + 1))[:n]


def serve(app, port: int):
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws_max_size=65536))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server


async def _client(port: int, jobs: list, concurrency: int) -> list[tuple[str, float | None]]:
    out: list[tuple[str, float | None]] = [("", None)] * len(jobs)

    async def one(i, call_sid, ulaw, end_s):
        out[i] = await call(port, call_sid, ulaw, end_s)

    for i in range(0, len(jobs), concurrency):
        await asyncio.gather(*(one(j, *jobs[j]) for j in range(i, min(len(jobs), i + concurrency))))
    return out


def _client_process(port: int, jobs: list, concurrency: int) -> list[tuple[str, float | None]]:
    return asyncio.run(_client(port, jobs, concurrency))


async def run_calls(port, services, items, concurrency: int) -> list[tuple[float | None, str]]:
    """The callers run in a separate process, as a phone network would: they share no GIL with the server."""
    import multiprocessing
    import uuid
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(f"CA{uuid.uuid4().hex}", ulaw, end_s) for ulaw, end_s in items]
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        called = await asyncio.get_running_loop().run_in_executor(pool, _client_process, port, jobs, concurrency)
    out: list[tuple[float | None, str]] = []

    for cid, lat in called:
        paths: list = []
        for _ in range(300):  # the reply is stored when the turn finishes, after hang-up at the latest
            view = await asyncio.to_thread(services.conversations.get, cid)
            paths = [m.path for m in view.messages if m.role == "assistant"]
            if paths:
                break
            await asyncio.sleep(0.1)
        out.append((lat, paths[0] if paths else "none"))
    return out


def summary(label: str, results, path: str | None = None) -> dict:
    lat = [r for r, p in results if r is not None and (path is None or p == path)]
    paths: dict[str, int] = {}
    for _, p in results:
        paths[p] = paths.get(p, 0) + 1
    d = {"calls": len(results), "answered": len(lat), "path": path or "all", "p50_s": round(pct(lat, 0.5), 3), "p95_s": round(pct(lat, 0.95), 3),
         "max_s": round(max(lat), 3) if lat else None, "paths": paths}
    print(f"{label:40s} calls={d['calls']:3d} measured={len(lat):3d} p50={d['p50_s']:.3f}s p95={d['p95_s']:.3f}s max={d['max_s']}s paths={paths}", flush=True)
    return d


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=30, help="FAQ-path calls, one at a time")
    ap.add_argument("--generated", type=int, default=30, help="generated-answer calls (0 to skip)")
    ap.add_argument("--max-concurrency", type=int, default=8)
    ap.add_argument("--json")
    args = ap.parse_args()
    from assistant.api.app import create_app
    from assistant.config import Settings
    from assistant.logging_setup import configure_logging
    from assistant.services import build_services

    configure_logging("WARNING")
    settings = Settings()
    services = build_services(settings)
    if services.voice is None:
        print(f"voice unavailable: {services.voice_error}", file=sys.stderr)
        return 1
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve(create_app(settings, services), port)
    tts = services.voice.tts
    faq = faq_path_audio(services, tts, args.calls)
    report = {"llm": services.generator.name, "asr": services.voice.asr.name, "end_silence_ms": settings.voice.end_silence_ms}
    print(f"LLM {report['llm']}, ASR {report['asr']}, end of turn after {settings.voice.end_silence_ms} ms of silence")
    seq = asyncio.run(run_calls(port, services, faq, 1))
    report["faq_sequential"] = summary("FAQ-path answers, 1 call at a time", seq, "faq")
    summary("  (all those calls, any path)", seq)
    report["concurrency"] = {}
    faq_only = [it for it, (_, path) in zip(faq, seq, strict=False) if path == "faq"] or faq  # no LLM load in the sweep
    best, failed = 0, False
    for k in [n for n in (1, 2, 3, 4, 5, 6, 8, 10) if n <= args.max_concurrency]:
        items = (faq_only * 8)[: max(2 * k, 16)]
        d = summary(f"FAQ-path answers, {k} calls at once", asyncio.run(run_calls(port, services, items, k)), "faq")
        report["concurrency"][k] = d
        ok = d["answered"] >= 0.8 * d["calls"] and d["p95_s"] <= 2.0
        if ok and not failed:
            best = k
        failed = failed or not ok
    report["max_concurrent_calls_p95_under_2s"] = best
    print(f"concurrent calls with p95 <= 2 s (FAQ path): {best}")
    if args.generated:
        gen = [phone_audio(tts, q) for q in (GENERATED * 2)[: args.generated]]
        report["generated_sequential"] = summary("generated answers, 1 call at a time", asyncio.run(run_calls(port, services, gen, 1)))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
