"""POST /v1/asr, POST /v1/tts, the PCM16 websocket, and 503s when the [voice] extra is missing."""

import dataclasses
import io
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

sf = pytest.importorskip("soundfile")
pytest.importorskip("piper")

from assistant.api.app import create_app  # noqa: E402
from tests.conftest import auth  # noqa: E402
from voice.audio import float_to_pcm16, resample, ulaw_encode  # noqa: E402

QUESTION = "What is the wire transfer cut-off time?"


@pytest.fixture(scope="module")
def spoken(client):
    r = client.post("/v1/tts", json={"text": QUESTION})
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    pcm, rate = sf.read(io.BytesIO(r.content), dtype="float32")
    assert rate == 22050 and len(pcm) / rate > 1.0
    return pcm, rate


def _encode(pcm, rate, fmt, subtype=None) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, pcm, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,subtype,ctype", [("WAV", "PCM_16", "audio/wav"), ("FLAC", None, "audio/flac"), ("OGG", "VORBIS", "audio/ogg")])
def test_asr_transcribes_formats(client, spoken, fmt, subtype, ctype):
    pcm, rate = spoken
    r = client.post("/v1/asr", content=_encode(pcm, rate, fmt, subtype), headers={"content-type": ctype})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "wire" in body["text"].lower() and body["language"] == "en"
    assert abs(body["duration_s"] - len(pcm) / rate) < 0.1 and body["processing_s"] > 0


def test_asr_takes_raw_mulaw_and_multipart(client, spoken):
    pcm, rate = spoken
    ulaw = ulaw_encode(float_to_pcm16(resample(pcm.astype(np.float32), rate, 8000)))
    r = client.post("/v1/asr", content=ulaw, headers={"content-type": "audio/basic"})
    assert r.status_code == 200 and "wire" in r.json()["text"].lower()
    r = client.post("/v1/asr", files={"file": ("q.wav", _encode(pcm, rate, "WAV", "PCM_16"), "audio/wav")})
    assert r.status_code == 200 and "wire" in r.json()["text"].lower()


def test_asr_rejects_unsupported_and_corrupt_audio(client, spoken):
    r = client.post("/v1/asr", content=b"%PDF-1.4 definitely not audio" * 20, headers={"content-type": "audio/wav"})
    assert r.status_code == 415 and "WAV" in r.json()["detail"]
    wav = _encode(*spoken, "WAV", "PCM_16")
    r = client.post("/v1/asr", content=wav[:40], headers={"content-type": "audio/wav"})
    assert r.status_code in (415, 422)
    assert client.post("/v1/asr", content=b"", headers={"content-type": "audio/wav"}).status_code == 422


def _silent_flac(seconds: int, rate: int = 8000) -> bytes:
    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", rate, 1, format="FLAC") as f:
        for _ in range(seconds):
            f.write(np.zeros(rate, np.int16))
    return buf.getvalue()


def test_asr_refuses_long_audio_in_a_small_upload(client, settings):
    bomb = _silent_flac(600)  # ten minutes in a few kilobytes
    r = client.post("/v1/asr", content=bomb, headers={"content-type": "audio/flac"})
    assert r.status_code == 413 and f"limit of {settings.voice.max_audio_s:g} s" in r.json()["detail"]
    r = client.post("/v1/asr", files={"file": ("long.flac", bomb, "audio/flac")})
    assert r.status_code == 413


@pytest.mark.parametrize("ctype", ["audio/wav", "multipart/form-data; boundary=xyz"])
def test_asr_stops_reading_an_oversized_body_at_the_cap(settings, services, ctype):
    """No Content-Length, 50 MB streamed: the 413 comes after about 1 MB is read, not after all of it."""
    import asyncio

    app = create_app(settings.changed(voice__max_upload_mb=1), services)
    chunk, total, pulled, at_response = 64 * 1024, 50 * 1024 * 1024, 0, None
    sent = []

    head = (b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n'
            if ctype.startswith("multipart") else b"")  # a well-formed part whose file never ends

    async def receive():
        nonlocal pulled
        body = (head if pulled == 0 else b"") + b"\0" * chunk
        pulled += chunk
        return {"type": "http.request", "body": body, "more_body": pulled < total}

    async def send(message):
        nonlocal at_response
        if message["type"] == "http.response.start":
            at_response = pulled
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/v1/asr", "raw_path": b"/v1/asr", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver"), (b"content-type", ctype.encode())],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80), "state": {}}
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    assert status == 413 and at_response <= 1024 * 1024 + 128 * 1024, f"read {at_response} bytes before answering"


def test_tts_validates_input(client):
    assert client.post("/v1/tts", json={"text": ""}).status_code == 422
    assert client.post("/v1/tts", json={"text": "x" * 3000}).status_code == 422


def test_voice_routes_answer_503_naming_the_extra_when_voice_is_missing(settings, services):
    no_voice = dataclasses.replace(services, voice=None, voice_error=None)
    with TestClient(create_app(settings, no_voice)) as c:
        for r in (c.post("/v1/tts", json={"text": "hi"}), c.post("/v1/asr", content=b"x"), c.post("/v1/voice/twiml")):
            assert r.status_code == 503 and "[voice]" in r.json()["detail"]
        assert c.get("/healthz").status_code == 200


def test_pcm_socket_greets_transcribes_and_answers(client, spoken):
    pcm, rate = spoken
    pcm16 = float_to_pcm16(resample(pcm.astype(np.float32), rate, 16000)).tobytes()
    silence = bytes(16000 * 2)
    events = []
    with client.websocket_connect("/v1/voice/pcm?channel=robot") as ws:
        def drain_until(kind):
            while True:
                msg = ws.receive()
                if msg.get("text"):
                    ev = json.loads(msg["text"])
                    events.append(ev)
                    if ev["type"] == "audio":
                        audio = ws.receive()["bytes"]
                        assert len(audio) == ev["bytes"] and ev["sample_rate"] == 16000
                        ws.send_text(json.dumps({"type": "mark", "name": ev["mark"]}))
                    if ev["type"] == kind:
                        return ev

        ready = drain_until("ready")
        drain_until("audio")  # the greeting
        for i in range(0, len(pcm16), 640):
            ws.send_bytes(pcm16[i : i + 640])
        ws.send_bytes(silence)
        transcript = drain_until("transcript")
        assert "wire" in transcript["text"].lower()
        reply = drain_until("reply")
        assert reply["text"] and reply["path"]
        drain_until("audio")
        ws.send_text(json.dumps({"type": "hangup"}))
    stored = client.get(f"/v1/conversations/{ready['conversation_id']}", headers=auth(ready)).json()
    roles = [m["role"] for m in stored["messages"] if m["role"] != "system"]  # a barge-in note if we spoke over the greeting
    assert stored["channel"] == "robot" and roles[:2] == ["user", "assistant"]


def test_pcm_socket_rejects_odd_frames(client):
    with client.websocket_connect("/v1/voice/pcm") as ws:
        while json.loads(ws.receive_text())["type"] != "ready":
            pass
        ws.send_bytes(b"\x00" * 3)
        kinds = []
        try:
            while True:
                msg = ws.receive()
                if msg.get("text"):
                    kinds.append(json.loads(msg["text"])["type"])
                if msg["type"] == "websocket.close":
                    break
        except Exception:
            pass
        assert "error" in kinds


def test_pcm_socket_cannot_join_a_conversation_without_its_session_token(client, services):
    """Continuing a conversation by voice needs that conversation's own session token."""
    victim, _ = services.conversations.start_session("web")
    _, someone_else = services.conversations.start_session("web")
    phone_call = services.conversations.create("voice")  # server-owned: no customer token opens it
    # the token travels in the first frame ({"type": "auth"}), never in the URL
    for cid, token, code in ((victim, None, 4401), (victim, someone_else, 4403), (phone_call, someone_else, 4403)):
        with client.websocket_connect(f"/v1/voice/pcm?conversation_id={cid}") as ws:
            if token:
                ws.send_json({"type": "auth", "token": token})
            msg = ws.receive()
        assert msg["type"] == "websocket.close" and msg["code"] == code, (cid, msg)
    assert not services.conversations.get(victim).messages


def wait_for_close(ws, timeout: float) -> tuple[dict | None, list[dict]]:
    """Read a socket until the server closes it (in a thread: a socket that never closes must not hang the test)."""
    import threading

    events: list[dict] = []
    closed: list[dict] = []

    def read() -> None:
        while True:
            msg = ws.receive()
            if msg["type"] == "websocket.close":
                closed.append(msg)
                return
            if msg.get("text"):
                events.append(json.loads(msg["text"]))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return (closed[0] if closed else None), events


def test_a_quiet_pcm_socket_is_closed_with_a_reason(settings, services):
    quick = settings.changed(voice__idle_timeout_s=0.5)
    with TestClient(create_app(quick, services)) as c, c.websocket_connect("/v1/voice/pcm") as ws:
        closed, events = wait_for_close(ws, 20)
    assert closed is not None, "the idle socket was left open"
    assert closed["code"] == 4408 and "idle" in closed["reason"]
    assert events[0]["type"] == "ready" and {"type": "error", "detail": closed["reason"]} in events
