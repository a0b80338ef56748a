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
