"""Rate limits, CORS allow-list and security headers on the real app."""

import time

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from assistant.api.app import create_app
from tests.conftest import auth


def strict_client(settings, services, **overrides):
    return TestClient(create_app(settings.changed(**overrides), services))


def test_per_ip_rate_limit_answers_429_with_retry_after(settings, services):
    with strict_client(settings, services, rate_limit__ip="3/minute") as c:
        codes = [c.get("/v1/kb/search", params={"q": "wire"}).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        r = c.get("/v1/kb/search", params={"q": "wire"})
        assert r.json()["detail"].startswith("too many requests") and int(r.headers["retry-after"]) >= 1
        assert c.get("/healthz").status_code == 200  # health checks are not limited


def ws_turn(ws, **frame) -> dict:
    """The reply or error frame of one chat-socket turn (with the session frame of a new conversation)."""
    ws.send_json({"message": "What is your routing number?", **frame})
    seen = {}
    while (out := ws.receive_json())["type"] not in ("reply", "error"):
        seen[out["type"]] = out
    return {**out, "session": seen.get("session")}


def test_per_conversation_message_limit_on_the_chat_socket(settings, services):
    with strict_client(settings, services, rate_limit__session="2/minute") as c, c.websocket_connect("/v1/chat/ws") as ws:
        first = ws_turn(ws)
        cid, token = first["session"]["conversation_id"], first["session"]["session_token"]
        second = ws_turn(ws, conversation_id=cid, session_token=token)
        third = ws_turn(ws, conversation_id=cid, session_token=token)
        assert [first["type"], second["type"]] == ["reply", "reply"]
        assert third["status"] == 429 and third["retry_after"] >= 1 and "too many messages" in third["detail"]


def test_turn_limit_holds_across_rest_and_socket(settings, services):
    """One limit per conversation, whichever transport carries the turn: REST /v1/chat had none."""
    # per hour, not per minute: a fixed window that turns over mid-test would reset the count
    with strict_client(settings, services, rate_limit__session="3/hour") as c:
        first = c.post("/v1/chat", json={"message": "What is your routing number?"}).json()
        cid, headers = first["conversation_id"], auth(first)
        assert c.post("/v1/chat", json={"message": "And the wire fee?", "conversation_id": cid}, headers=headers).status_code == 200
        with c.websocket_connect("/v1/chat/ws") as ws:
            assert ws_turn(ws, conversation_id=cid, session_token=first["session_token"])["type"] == "reply"
            assert ws_turn(ws, conversation_id=cid, session_token=first["session_token"])["status"] == 429
        r = c.post("/v1/chat", json={"message": "hello?", "conversation_id": cid}, headers=headers)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert r.json()["detail"].startswith("too many messages in this conversation")
        other = c.post("/v1/chat", json={"message": "What is your routing number?"})
        assert other.status_code == 200  # another conversation has its own count


def test_websocket_handshakes_are_limited_per_client_on_every_socket(settings, services):
    with strict_client(settings, services, rate_limit__ws_connect="3/minute") as c:
        for path in ("/v1/chat/ws", "/v1/robot", "/v1/agent/ws"):
            with c.websocket_connect(path):
                pass
        with pytest.raises(WebSocketDisconnect) as refused, c.websocket_connect("/v1/chat/ws") as ws:
            ws.receive_json()
        assert refused.value.code == 4429 and "too many connections" in refused.value.reason
        assert c.get("/v1/suggestions").status_code == 200  # HTTP has its own limit


def test_new_conversations_are_limited_per_client(settings, services):
    with strict_client(settings, services, rate_limit__conversations="2/hour") as c:
        first = c.post("/v1/chat", json={"message": "What is your routing number?"}).json()
        with c.websocket_connect("/v1/chat/ws") as ws:
            assert ws_turn(ws)["type"] == "reply"
            refused = ws_turn(ws)
            assert refused["status"] == 429 and "new conversations" in refused["detail"]
        r = c.post("/v1/chat", json={"message": "What is your routing number?"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 60  # an hourly window
        again = c.post("/v1/chat", json={"message": "And the wire fee?", "conversation_id": first["conversation_id"]},
                       headers=auth(first))
        assert again.status_code == 200  # an existing conversation goes on


def test_hand_off_tickets_are_limited_per_client(settings, services):
    with strict_client(settings, services, rate_limit__tickets="1/hour") as c:
        replies = [c.post("/v1/chat", json={"message": "What is your routing number?"}).json() for _ in range(2)]
        asks = [c.post(f"/v1/conversations/{r['conversation_id']}/handoff", headers=auth(r)) for r in replies]
        assert asks[0].status_code == 200 and asks[1].status_code == 429
        assert "requests for an agent" in asks[1].json()["detail"] and int(asks[1].headers["retry-after"]) > 60
        again = c.post(f"/v1/conversations/{replies[0]['conversation_id']}/handoff", headers=auth(replies[0]))
        assert again.status_code == 200 and again.json()["ticket_id"] == asks[0].json()["ticket_id"]  # its own ticket


def test_robot_turns_count_per_conversation_and_robots_per_device(settings, services):
    _, token = services.robots.add(f"lobby-limits-{time.monotonic_ns()}", "branch-7")
    with strict_client(settings, services, rate_limit__session="1/minute", rate_limit__conversations="1/hour") as c:
        with c.websocket_connect("/v1/robot") as ws:
            ws.send_json({"v": 1, "type": "hello", "token": token})
            assert ws.receive_json()["type"] == "session"
            codes = []
            for _ in range(2):
                ws.send_json({"v": 1, "type": "text", "text": "What is your routing number?"})
                while (frame := ws.receive_json())["type"] not in ("reply", "error"):
                    pass
                codes.append(frame.get("code", "reply"))
            assert codes == ["reply", "rate_limited"]
        with c.websocket_connect("/v1/robot") as ws:  # a second new conversation for the same device
            ws.send_json({"v": 1, "type": "hello", "token": token})
            assert ws.receive_json()["code"] == "rate_limited"
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 4429
        # the address the robot connected from is not charged for the robot's conversations
        assert c.post("/v1/chat", json={"message": "What is your routing number?"}).status_code == 200


def test_cors_allow_list_and_security_headers(settings, services):
    with strict_client(settings, services, security__cors_origins=["https://bank.example"]) as c:
        ok = c.options("/v1/chat", headers={"origin": "https://bank.example", "access-control-request-method": "POST"})
        assert ok.headers["access-control-allow-origin"] == "https://bank.example"
        bad = c.options("/v1/chat", headers={"origin": "https://evil.example", "access-control-request-method": "POST"})
        assert "access-control-allow-origin" not in bad.headers
        page = c.get("/")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        api = c.get("/v1/suggestions")
        assert api.headers["x-content-type-options"] == "nosniff" and api.headers["x-frame-options"] == "DENY"
