"""Handoff through the real API: a customer asks for a person, an agent claims and replies."""

import contextlib

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.conftest import auth

AGENT_PW = "correct-horse-battery"


@pytest.fixture(scope="module")
def agents(services):
    out = {}
    for name, display in (("dana", "Dana"), ("lee", "Lee")):
        with contextlib.suppress(Exception):  # the session-wide database may already hold them
            services.agents.add(name, AGENT_PW, display_name=display)
        out[name] = name
    return out


def login(client, username):
    r = client.post("/v1/agent/login", json={"username": username, "password": AGENT_PW})
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['token']}"}


def test_customer_and_agent_talk_live(client, agents):
    with client.websocket_connect("/v1/chat/ws") as customer:
        customer.send_json({"message": "What is the wire cut-off time?"})
        me = customer.receive_json()
        assert me["type"] == "session"
        while (frame := customer.receive_json())["type"] != "reply":
            pass
        cid = frame["conversation_id"]
        assert client.post(f"/v1/conversations/{cid}/handoff", headers=auth(me)).json()["status"] == "waiting"
        dana = login(client, "dana")
        queue = client.get("/v1/agent/tickets", headers=dana).json()
        ticket = next(t for t in queue if t["conversation_id"] == cid)
        assert ticket["status"] == "queued" and ticket["wait_s"] >= 0 and ticket["summary"]
        detail = client.get(f"/v1/agent/tickets/{ticket['id']}", headers=dana).json()
        assert [m["role"] for m in detail["messages"]][:2] == ["user", "assistant"]

        assert client.post(f"/v1/agent/tickets/{ticket['id']}/claim", headers=dana).status_code == 200
        lee = login(client, "lee")
        assert client.post(f"/v1/agent/tickets/{ticket['id']}/claim", headers=lee).status_code == 409
        joined = customer.receive_json()
        assert joined["type"] == "agent_joined" and joined["agent"] == "Dana"

        r = client.post(f"/v1/agent/tickets/{ticket['id']}/messages", headers=dana, json={"text": "Hi, this is Dana."})
        assert r.status_code == 200
        msg = customer.receive_json()
        assert msg == {"type": "agent_message", "agent": "Dana", "text": "Hi, this is Dana.", "message_id": msg["message_id"]}

        with client.websocket_connect("/v1/agent/ws") as agent_ws:
            agent_ws.send_json({"type": "auth", "token": dana["authorization"][7:]})
            assert agent_ws.receive_json()["type"] == "hello"
            customer.send_json({"message": "Thanks! Can you check my transfer?", "conversation_id": cid})
            while (frame := customer.receive_json())["type"] != "reply":
                pass
            assert frame["path"] == "human" and frame["reply"] == "" and frame["handoff"]["active"]
            seen = agent_ws.receive_json()
            assert seen["type"] == "customer_message" and seen["ticket_id"] == ticket["id"]

        r = client.post(f"/v1/agent/tickets/{ticket['id']}/close", headers=dana, json={"resolution": "resolved"})
        assert r.json()["status"] == "closed"
        assert customer.receive_json()["type"] == "handoff_ended"
        assert client.post(f"/v1/agent/tickets/{ticket['id']}/claim", headers=lee).status_code == 409
    roles = [m["role"] for m in client.get(f"/v1/conversations/{cid}", headers=auth(me)).json()["messages"]]
    assert roles.count("agent") == 1 and roles.count("system") == 2


def test_reconnect_resumes_and_customer_can_cancel(client, agents):
    me = client.post("/v1/chat", json={"message": "hello, what is the routing number?"}).json()
    cid = me["conversation_id"]
    client.post(f"/v1/conversations/{cid}/handoff", headers=auth(me))
    with client.websocket_connect("/v1/chat/ws") as again:  # e.g. after a page reload
        again.send_json({"type": "resume", "conversation_id": cid, "session_token": me["session_token"]})
        assert again.receive_json() == {"type": "resumed", "conversation_id": cid, "status": "waiting"}
    r = client.delete(f"/v1/conversations/{cid}/handoff", headers=auth(me))
    assert r.json()["status"] == "bot" and r.json()["ticket_id"]
    r = client.post("/v1/chat", json={"message": "What is the wire cut-off time?", "conversation_id": cid}, headers=auth(me))
    assert r.json()["path"] != "human"


def test_agent_api_errors(client, agents):
    assert client.get("/v1/agent/tickets").status_code == 401
    assert client.get("/v1/agent/tickets", headers={"authorization": "Bearer nope"}).status_code == 401
    assert client.post("/v1/agent/login", json={"username": "dana", "password": "wrong"}).status_code == 401
    dana = login(client, "dana")
    assert client.get("/v1/agent/tickets/999999", headers=dana).status_code == 404
    assert client.post("/v1/agent/tickets/999999/claim", headers=dana).status_code == 404
    assert client.post("/v1/agent/tickets/1/messages", headers=dana, json={"text": "  "}).status_code == 422
    assert client.post("/v1/conversations/nope/handoff").status_code == 401
    assert client.post("/v1/conversations/nope/handoff", headers={"authorization": "Bearer cst_x"}).status_code == 404
    with client.websocket_connect("/v1/agent/ws") as ws, pytest.raises(WebSocketDisconnect):
        ws.send_json({"type": "auth", "token": "bad"})
        ws.receive_json()


def test_feedback_is_stored_with_the_message(client):
    body = client.post("/v1/chat", json={"message": "What is your routing number?"}).json()
    cid, mid, me = body["conversation_id"], body["message_id"], auth(body)
    url = f"/v1/conversations/{cid}/messages/{mid}/feedback"
    assert client.post(url, json={"rating": "down"}).status_code == 401
    assert client.post(url, json={"rating": "down"}, headers=me).status_code == 204
    assert client.get(f"/v1/conversations/{cid}", headers=me).json()["messages"][1]["feedback"] == -1
    assert client.post(f"/v1/conversations/{cid}/messages/{mid - 1}/feedback", json={"rating": "up"}, headers=me).status_code == 404
    assert client.post(url, json={"rating": "meh"}, headers=me).status_code == 422


def test_audit_trail_records_turns_and_agent_actions(client, services, agents):
    me = client.post("/v1/chat", json={"message": "My card 4111 1111 1111 1111, what's the routing number?"}).json()
    cid = me["conversation_id"]
    client.post(f"/v1/conversations/{cid}/handoff", headers=auth(me))
    dana = login(client, "dana")
    tid = next(t["id"] for t in client.get("/v1/agent/tickets", headers=dana).json() if t["conversation_id"] == cid)
    client.post(f"/v1/agent/tickets/{tid}/claim", headers=dana)
    from sqlalchemy import select

    from assistant.storage.models import AuditRecord

    with services.conversations._sessions() as s:
        rows = s.scalars(select(AuditRecord).where(AuditRecord.conversation_id == cid).order_by(AuditRecord.id)).all()
    kinds = [(r.kind, r.payload.get("event") or r.payload.get("action")) for r in rows]
    assert kinds == [("turn", None), ("handoff", "ticket_created"), ("agent_action", "claim")]
    assert rows[0].payload["path"] in ("faq", "generated", "extractive") and rows[0].payload["reply"]
    assert "4111" not in str(rows[0].payload) and rows[0].payload["pii_masked"] == {"CARD": 1}
    assert services.audit.verify().ok
