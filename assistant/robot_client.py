"""Reference client for the lobby-robot protocol v1: `bankassist robot-client`.

Holds one session from the terminal: type questions, or stream a WAV file as the visitor's
speech (converted to PCM16 16 kHz mono). Spoken replies are saved to --save-audio.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
import wave
from pathlib import Path

import numpy as np

FRAME_MS = 100


def wav_frames(path: Path) -> list[bytes]:
    with wave.open(str(path), "rb") as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError("WAV must be 16-bit PCM")
    x = np.frombuffer(raw, "<i2").astype(np.float32).reshape(-1, channels).mean(axis=1)
    if rate != 16000:  # linear resampling is enough for a reference client
        x = np.interp(np.arange(0, len(x), rate / 16000), np.arange(len(x)), x)
    pcm = np.clip(x, -32768, 32767).astype("<i2").tobytes()
    step = 16000 * 2 * FRAME_MS // 1000
    silence = bytes(step * 12)  # 1.2 s of silence lets the server detect the end of the turn
    return [pcm[i : i + step] for i in range(0, len(pcm), step)] + [silence[i : i + step] for i in range(0, len(silence), step)]


class RobotClient:
    def __init__(self, url: str, token: str, *, tts: bool = False, out=print) -> None:
        from websockets.sync.client import connect

        self.ws = connect(url, max_size=2**22)
        self.out = out
        self.audio = bytearray()
        self.ws.send(json.dumps({"v": 1, "type": "hello", "token": token, "tts": tts}))
        self.session = self._next_json()
        if self.session.get("type") != "session":
            raise RuntimeError(f"handshake failed: {self.session}")

    def _next_json(self, timeout: float = 120.0) -> dict:
        """The next JSON message; a closed socket reads as {"type": "closed", "code", "reason"}
        (e.g. 4401 after `bankassist robots revoke`)."""
        from websockets.exceptions import ConnectionClosed

        while True:
            try:
                msg = self.ws.recv(timeout=timeout)
            except ConnectionClosed as exc:
                close = exc.rcvd
                return {"type": "closed", "code": close.code if close else 1006, "reason": close.reason if close else ""}
            if isinstance(msg, bytes):
                self.audio += msg
                continue
            return json.loads(msg)

    def events_until_reply(self, timeout: float = 120.0) -> list[dict]:
        events = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self._next_json(deadline - time.monotonic())
            events.append(event)
            self.out(event)
            if event["type"] in ("reply", "error", "bye", "closed"):
                break
        return events

    def ask(self, text: str) -> list[dict]:
        self.ws.send(json.dumps({"v": 1, "type": "text", "text": text}))
        return self.events_until_reply()

    def speak(self, wav: Path) -> list[dict]:
        for frame in wav_frames(wav):
            self.ws.send(frame)
            time.sleep(FRAME_MS / 1000 / 4)  # faster than real time, still paced
        return self.events_until_reply()

    def close(self) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):  # the server may have ended it (revoked, idle)
            self.ws.send(json.dumps({"v": 1, "type": "bye"}))
        self.ws.close()


def run(url: str, token: str, wav: str | None, save_audio: str | None) -> int:
    def show(event: dict) -> None:
        if event["type"] == "reply_delta":
            print(event["text"], end="", flush=True)
        elif event["type"] == "reply":
            print(f"\n[{event['path']}] {event['text']}")
            for c in event["citations"]:
                print(f"   source: {c['title']} ({c['doc_id']})")
            d = event["display"]
            print(f"   display: {d['screen']} · {d['service']}" + (f" · {d['counter']}" if d.get("counter") else ""))
        elif event["type"] == "transcript":
            print(f"({'heard' if event['final'] else 'hearing'}: {event['text']})")
        elif event["type"] in ("staff_needed", "error", "agent_message", "bye", "closed"):
            print(json.dumps(event))

    client = RobotClient(url, token, tts=bool(save_audio), out=show)
    print(f"session {client.session['session_id']} · branch {client.session['branch_id']} · conversation {client.session['conversation_id']}")
    try:
        if wav:
            client.speak(Path(wav))
        else:
            for line in sys.stdin:
                if not line.strip():
                    break
                events = client.ask(line.strip())
                if events and events[-1]["type"] in ("bye", "closed"):
                    break  # the server ended the session (e.g. the token was revoked)
    finally:
        client.close()
    if save_audio and client.audio:
        rate = int((client.session.get("audio_out") or "pcm16le/22050").split("/")[1])
        with wave.open(save_audio, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(bytes(client.audio))
        print(f"saved {len(client.audio) / 2 / rate:.1f} s of speech to {save_audio}")
    return 0
