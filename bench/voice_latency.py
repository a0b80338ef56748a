"""Voice-to-voice latency over scripted phone calls, and how many calls run at once.

    .venv/bin/python bench/voice_latency.py [--calls 30] [--generated 30] [--max-concurrency 8] [--json out.json]

The app runs under uvicorn on 127.0.0.1 (in this process, models on one thread each); each
call is a `websockets` client speaking the Twilio Media Streams protocol. The caller's
question (Piper speech, 8 kHz mu-law) is streamed in real time, 20 ms a frame, followed by
silence frames; voice-to-voice latency is the wall time from the last voiced frame sent to
the first outbound media frame received: end-of-turn detection + ASR + dialogue + TTS of
the first sentence. Marks are echoed at once (playback is not what is measured).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from chat_latency import GENERATED, PLAIN_FAQ, faq_questions, pct  # noqa: E402

FRAME = 160


def phone_audio(tts, text: str) -> tuple[bytes, float]:
    """mu-law of a spoken question and the time its voice ends (Piper pads with silence)."""
    from voice.audio import PHONE_RATE, float_to_pcm16, pcm16_to_float, resample, ulaw_encode

    s = tts.synthesize_all(text)
    pcm = float_to_pcm16(resample(pcm16_to_float(s.pcm16), s.sample_rate, PHONE_RATE))
    frames = pcm[: len(pcm) // FRAME * FRAME].reshape(-1, FRAME).astype(np.float32)
    voiced = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > 300)
    end_s = (voiced[-1] + 1) * FRAME / PHONE_RATE if len(voiced) else len(pcm) / PHONE_RATE
    return ulaw_encode(pcm), end_s


async def call(port: int, cid: str, ulaw: bytes, voice_end_s: float, timeout: float = 60.0) -> float | None:
    import websockets

    async with websockets.connect(f"ws://127.0.0.1:{port}/v1/voice/twilio", max_size=2**20) as ws:
        state = {"first_media": None, "listening": False, "last_msg": time.monotonic(), "marks": 0}

        async def reader() -> None:
            async for raw in ws:
                msg = json.loads(raw)
                state["last_msg"] = time.monotonic()
                if msg["event"] == "media" and state["listening"] and state["first_media"] is None:
                    state["first_media"] = time.monotonic()
                elif msg["event"] == "mark":
                    state["marks"] += 1
                    await ws.send(json.dumps({"event": "mark", "streamSid": "MZb", "mark": msg["mark"]}))

        task = asyncio.create_task(reader())
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(json.dumps({"event": "start", "streamSid": "MZb", "start": {
            "streamSid": "MZb", "callSid": f"CA{cid}", "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000},
            "customParameters": {"conversation_id": cid}}}))
        while state["marks"] == 0 or time.monotonic() - state["last_msg"] < 0.4:  # the greeting, played at once
            await asyncio.sleep(0.02)
        silence = b"\xff" * FRAME
        frames = [ulaw[i : i + FRAME] for i in range(0, len(ulaw), FRAME)]
        t0 = time.monotonic()
        state["listening"] = True
        voice_end_wall = t0 + voice_end_s
        i = 0
        while state["first_media"] is None and time.monotonic() - t0 < timeout:
            chunk = frames[i] if i < len(frames) else silence
            await ws.send(json.dumps({"event": "media", "streamSid": "MZb", "media": {"payload": base64.b64encode(chunk).decode()}}))
            i += 1
            await asyncio.sleep(max(0.0, t0 + i * 0.02 - time.monotonic()))  # real time, no drift
        first = state["first_media"]
        while time.monotonic() - state["last_msg"] < 0.5:  # let the reply finish
            await asyncio.sleep(0.05)
        await ws.send(json.dumps({"event": "stop", "streamSid": "MZb", "stop": {}}))
        task.cancel()
    return None if first is None else first - voice_end_wall


def serve(app, port: int):
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws_max_size=65536))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server


async def run_calls(port, services, items, concurrency: int) -> list[tuple[float | None, str]]:
    out: list[tuple[float | None, str]] = []

    async def one(ulaw, end_s):
        cid = await asyncio.to_thread(services.conversations.create, "voice")
        lat = await call(port, cid, ulaw, end_s)
        view = await asyncio.to_thread(services.conversations.get, cid)
        paths = [m.path for m in view.messages if m.role == "assistant"]
        out.append((lat, paths[0] if paths else "none"))

    for i in range(0, len(items), concurrency):
        await asyncio.gather(*(one(*it) for it in items[i : i + concurrency]))
    return out


def summary(label: str, results) -> dict:
    lat = [r for r, _ in results if r is not None]
    paths: dict[str, int] = {}
    for _, p in results:
        paths[p] = paths.get(p, 0) + 1
    d = {"calls": len(results), "answered": len(lat), "p50_s": round(pct(lat, 0.5), 3), "p95_s": round(pct(lat, 0.95), 3),
         "max_s": round(max(lat), 3) if lat else None, "paths": paths}
    print(f"{label:34s} calls={d['calls']:3d} p50={d['p50_s']:.3f}s p95={d['p95_s']:.3f}s max={d['max_s']}s paths={paths}", flush=True)
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
    faq = [phone_audio(tts, q) for q in faq_questions(services, max(args.calls, 8))][: args.calls]
    report = {"llm": services.generator.name, "asr": services.voice.asr.name, "end_silence_ms": settings.voice_end_silence_ms}
    print(f"LLM {report['llm']}, ASR {report['asr']}, end of turn after {settings.voice_end_silence_ms} ms of silence")
    report["faq_sequential"] = summary("FAQ questions, 1 call at a time", asyncio.run(run_calls(port, services, faq, 1)))
    report["concurrency"] = {}
    best = 0
    for k in [n for n in (1, 2, 3, 4, 5, 6, 8, 10) if n <= args.max_concurrency]:
        items = (faq * 4)[: max(2 * k, 8)]
        d = summary(f"FAQ questions, {k} calls at once", asyncio.run(run_calls(port, services, items, k)))
        report["concurrency"][k] = d
        if d["answered"] == d["calls"] and d["p95_s"] <= 2.0:
            best = k
        else:
            break
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
