"""Lobby-robot protocol v1 over a real websocket: handshake, turns, errors, idle timeout."""

import socket
import threading
import time

import pytest
import uvicorn
from sqlalchemy import text

from assistant.api.app import create_app
from assistant.channels import robot_protocol as rp
from assistant.robot_client import RobotClient


@pytest.fixture(scope="module")
def robot_token(services):
    _, token = services.robots.add(f"lobby-{time.monotonic_ns()}", "branch-downtown")
    return token


def hello(ws, token, **extra):
    ws.send_json({"v": 1, "type": "hello", "token": token, **extra})
    return ws.receive_json()


def until_reply(ws):
    frames = []
    while True:
        frames.append(ws.receive_json())
        if frames[-1]["type"] in ("reply", "error"):
            return frames


def test_session_text_turn_and_ping(client, services, robot_token):
    with client.websocket_connect("/v1/robot") as ws:
        session = hello(ws, robot_token)
        assert session["type"] == "session" and session["v"] == 1 and session["branch_id"] == "branch-downtown"
        assert session["supported_versions"] == [1] and session["conversation_id"]
        ws.send_json({"v": 1, "type": "text", "text": "How much is an outgoing domestic wire?"})
        frames = until_reply(ws)
        reply = frames[-1]
        assert reply["type"] == "reply" and reply["citations"] and reply["display"]["screen"] == "answer"
        assert all(f["v"] == 1 for f in frames)
        ws.send_json({"v": 1, "type": "ping", "id": "42"})
        assert ws.receive_json() == {"v": 1, "type": "pong", "id": "42"}
        ws.send_json({"v": 1, "type": "bye"})
        assert ws.receive_json()["type"] == "bye"
    stored = services.conversations.get(session["conversation_id"])  # robot-owned: no customer token reads it
    assert stored.channel == "robot" and [m.role for m in stored.messages] == ["user", "assistant"]
    assert client.get(f"/v1/conversations/{session['conversation_id']}").status_code == 401


def test_malformed_frames_are_rejected_without_ending_the_session(client, robot_token):
    with client.websocket_connect("/v1/robot") as ws:
        hello(ws, robot_token)
        ws.send_text("{not json")
        assert ws.receive_json()["code"] == "malformed"
        ws.send_json({"v": 1, "type": "dance"})
        assert ws.receive_json()["code"] == "unknown_type"
        ws.send_json({"v": 1, "type": "text", "text": ""})
        assert ws.receive_json()["code"] == "malformed"
        ws.send_text('{"v": 1, "type": "text", "text": "' + "x" * 20000 + '"}')
        assert ws.receive_json()["code"] == "frame_too_large"
        ws.send_bytes(b"\x00" * 3)
        assert ws.receive_json()["code"] in ("malformed", "voice_unavailable")
        ws.send_json({"v": 1, "type": "ping"})
        assert ws.receive_json()["type"] == "pong"


@pytest.mark.parametrize("first,code", [
    ({"v": 1, "type": "hello", "token": "rbt_not-a-real-token"}, rp.CLOSE_UNAUTHORIZED),
    ({"v": 1, "type": "text", "text": "hi"}, rp.CLOSE_PROTOCOL),
    ({"v": 7, "type": "hello", "token": "whatever-token"}, rp.CLOSE_PROTOCOL),
])
def test_handshake_failures_close_with_documented_codes(client, first, code):
    from starlette.websockets import WebSocketDisconnect

    with client.websocket_connect("/v1/robot") as ws:
        ws.send_json(first)
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                frame = ws.receive_json()
                if first["v"] == 7:
                    assert frame["code"] == "unsupported_version" and frame["supported_versions"] == [1]
    assert closed.value.code == code


def test_idle_timeout(client, services, robot_token, monkeypatch):
    from starlette.websockets import WebSocketDisconnect

    monkeypatch.setattr(services, "settings", services.settings.changed(robot__idle_timeout_s=0.5))
    with client.websocket_connect("/v1/robot") as ws:
        assert hello(ws, robot_token)["idle_timeout_s"] == 0.5
        assert ws.receive_json() == {"v": 1, "type": "bye", "reason": "idle"}
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == rp.CLOSE_IDLE


def test_tokens_are_stored_hashed(services, robot_token):
    engine = services.conversations._sessions.kw["bind"]
    with engine.connect() as c:
        stored = [row[0] for row in c.execute(text("SELECT token_hash FROM robots"))]
    assert robot_token not in stored and all(len(h) == 64 for h in stored)


def test_reference_client_over_a_real_socket(settings, services, robot_token):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, services), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        seen = []
        client = RobotClient(f"ws://127.0.0.1:{port}/v1/robot", robot_token, out=seen.append)
        events = client.ask("What is your routing number?")
        client.close()
        assert events[-1]["type"] == "reply" and "000111222" in events[-1]["text"]
    finally:
        server.should_exit = True
        thread.join(5)


def test_protocol_doc_matches_the_code():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "robot-protocol.md").read_text()
    assert rp.schemas_markdown().strip() in doc, "regenerate: python -m assistant.channels.robot_protocol"
