"""Frames of the websocket fuzzer (tests/wsfuzz_frames.py) that each socket once failed on with an
unhandled exception (the client saw close 1011 or a dropped connection): now an error frame, or a
close with a documented code. The fuzz test itself (test_fuzz_ws.py) draws such frames at random;
these are the fixed cases."""

import json
import time

import pytest

DEEP = "[" * 5000 + "]" * 5000  # past the JSON parser's recursion limit, under every frame limit
AGENT_PW = "regression-agent-passphrase-5772"


def closed_with(ws) -> tuple[int | None, list[dict]]:
    """Read until the server closes the socket: its close code and the JSON frames before it."""
    frames = []
    while True:
        msg = ws.receive()
        if msg["type"] == "websocket.close":
            return msg.get("code"), frames
        if msg.get("text"):
            frames.append(json.loads(msg["text"]))


@pytest.mark.parametrize("frame", [{"message": "   "}, {"message": "\u2028"}, {"type": "message", "message": "\t\n "}])
def test_a_blank_chat_message_gets_an_error_frame(client, frame):
    with client.websocket_connect("/v1/chat/ws") as ws:
        ws.send_json(frame)
        answer = ws.receive_json()
    assert answer["type"] == "error" and answer["status"] == 422 and answer["detail"][0]["loc"]


@pytest.fixture(scope="module")
def agent_token(client, services):
    name = f"regression-{time.monotonic_ns()}"
    services.agents.add(name, AGENT_PW)
    return client.post("/v1/agent/login", json={"username": name, "password": AGENT_PW}).json()["token"]


@pytest.mark.parametrize("text", [DEEP, '{"ticket_id": Infinity, "text": "hi"}', '{"ticket_id": 1e300, "text": "x"}',
                                  '{"ticket_id": 100000000000000000000000000000, "text": "hi"}'])
def test_an_agent_frame_out_of_range_gets_an_error_frame(client, agent_token, text):
    with client.websocket_connect("/v1/agent/ws") as ws:
        ws.send_json({"type": "auth", "token": agent_token})
        assert ws.receive_json()["type"] == "hello"
        ws.send_text(text)
        answer = ws.receive_json()
    assert answer["type"] == "error" and answer["status"] == 422


@pytest.mark.parametrize("text, code", [(DEEP, "malformed"), ('{"v": 1, "type": ["text"]}', "unknown_type")])
def test_a_bad_robot_frame_gets_an_error_code(client, services, text, code):
    _, token = services.robots.add(f"regression-{time.monotonic_ns()}", "branch-regression")
    with client.websocket_connect("/v1/robot") as ws:
        ws.send_json({"v": 1, "type": "hello", "token": token})
        assert ws.receive_json()["type"] == "session"
        ws.send_text(text)
        answer = ws.receive_json()
    assert answer["type"] == "error" and answer["code"] == code


def test_deep_json_on_the_pcm_socket_is_a_protocol_error(client, services):
    if services.voice is None:
        pytest.skip(services.voice_error)
    with client.websocket_connect("/v1/voice/pcm") as ws:
        ws.send_text(DEEP)
        code, frames = closed_with(ws)
    assert code == 1008 and any(f["type"] == "error" and "JSON" in f["detail"] for f in frames)


@pytest.mark.parametrize("media_format", ["pcm", {"sampleRate": "fast"}, {"sampleRate": [8000]}])
def test_a_malformed_twilio_start_ends_the_call_with_1008(client, services, media_format):
    if services.voice is None:
        pytest.skip(services.voice_error)
    with client.websocket_connect("/v1/voice/twilio") as ws:
        ws.send_json({"event": "start", "streamSid": "MZ1", "start": {"callSid": "CA1", "mediaFormat": media_format}})
        code, _ = closed_with(ws)
    assert code == 1008
