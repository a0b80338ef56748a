"""Agent, robot and customer sign-in and sessions through the real API (issue 25, items 5-7 and lows)."""

import asyncio
import contextlib
import logging
import socket
import threading
import time
import uuid

import pytest
import uvicorn
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from assistant.api.app import create_app
from assistant.config import Settings
from assistant.logging_setup import configure_logging
from tests.conftest import auth

PW = "tangerine-ladder-42"


def new_agent(services, role="agent") -> str:
    name = f"ag-{uuid.uuid4().hex[:8]}"
    services.agents.add(name, PW, display_name=name.title(), role=role)
    return name


def login(client, username, password=PW):
    return client.post("/v1/agent/login", json={"username": username, "password": password})


def bearer(r) -> dict:
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['token']}"}


@contextlib.contextmanager
def app_client(services, **overrides):
    """A second app over the same services, with its own settings (its own login throttle)."""
    settings = Settings(_env_file=None, storage={"data_dir": services.settings.storage.data_dir},
                        rate_limit={"ip": "100000/minute", "session": "100000/minute"}).changed(**overrides)
    with TestClient(create_app(settings, services)) as c:
        yield c


# --- item 5: login throttling, hashing off the event loop

def test_login_hashes_off_the_event_loop(client, services, monkeypatch):
    name, seen = new_agent(services), []
    real = services.agents.authenticate

    def spy(username, password):
        try:
            asyncio.get_running_loop()
            seen.append("event loop")
        except RuntimeError:
            seen.append("worker thread")
        return real(username, password)

    monkeypatch.setattr(services.agents, "authenticate", spy)
    assert login(client, name).status_code == 200
    assert seen == ["worker thread"]


def test_failed_logins_lock_the_account_with_growing_waits(services):
    name = new_agent(services)
    with app_client(services, auth__agent_login_limits="3/minute;5/hour") as c:
        assert [login(c, name, "wrong-password-x").status_code for _ in range(3)] == [401] * 3
        locked = login(c, name)  # the right password, but the account is locked
        assert locked.status_code == 429 and 0 < int(locked.headers["retry-after"]) <= 60
        assert "too many failed logins" in locked.json()["detail"]
    other = new_agent(services)
    with app_client(services, auth__agent_login_limits="3/minute;5/hour") as c:
        assert login(c, other, "wrong-password-x").status_code == 401
        assert login(c, other).status_code == 200  # a success clears the account's count
        assert [login(c, other, "wrong-password-x").status_code for _ in range(3)] == [401] * 3


def test_failed_logins_from_one_address_are_throttled(services):
    names = [new_agent(services) for _ in range(4)]
    with app_client(services, auth__agent_login_ip_limits="3/minute") as c:
        assert [login(c, n, "wrong-password-x").status_code for n in names[:3]] == [401] * 3
        assert login(c, names[3]).status_code == 429  # another account, same client address


def test_lockout_is_shared_by_every_api_process_through_redis(services):
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", 6379)):
            pytest.skip("Redis is not running on 127.0.0.1:6379")
    name, shared = new_agent(services), {"redis__url": "redis://127.0.0.1:6379/0",
                                         "redis__prefix": f"test-{uuid.uuid4().hex[:8]}:",
                                         "auth__agent_login_limits": "2/minute"}
    with app_client(services, **shared) as a, app_client(services, **shared) as b:
        assert [login(a, name, "wrong-password-x").status_code for _ in range(2)] == [401, 401]
        assert login(b, name).status_code == 429


# --- item 7: logout, disable, expiry, live sockets

def test_logout_revokes_the_token(client, services):
    me = bearer(login(client, new_agent(services)))
    assert client.get("/v1/agent/tickets", headers=me).status_code == 200
    assert client.post("/v1/agent/logout", headers=me).status_code == 204
    assert client.get("/v1/agent/tickets", headers=me).status_code == 401
    assert client.post("/v1/agent/logout", headers=me).status_code == 401


def test_agent_socket_closes_at_its_next_frame_after_logout(client, services):
    me = bearer(login(client, new_agent(services)))
    with client.websocket_connect("/v1/agent/ws") as ws:
        ws.send_json({"type": "auth", "token": me["authorization"][7:]})
        assert ws.receive_json()["type"] == "hello"
        client.post("/v1/agent/logout", headers=me)
        ws.send_json({"ticket_id": 1, "text": "still there?"})
        assert ws.receive_json()["type"] == "session_ended"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401


def test_disabled_agent_cannot_log_in_and_its_quiet_socket_closes(client, services, monkeypatch):
    monkeypatch.setattr(services, "settings", services.settings.changed(auth__session_recheck_s=0.2))
    name = new_agent(services)
    me = bearer(login(client, name))
    with client.websocket_connect("/v1/agent/ws") as ws:
        ws.send_json({"type": "auth", "token": me["authorization"][7:]})
        assert ws.receive_json()["type"] == "hello"
        assert services.agents.set_disabled(name)
        assert ws.receive_json()["type"] == "session_ended"  # nothing sent: the periodic check ends it
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401
    assert login(client, name).status_code == 401
    services.agents.set_disabled(name, False)
    assert login(client, name).status_code == 200


def test_customer_session_token_expires(client, services, monkeypatch):
    me = client.post("/v1/chat", json={"message": "What is your routing number?"}).json()
    cid = me["conversation_id"]
    assert client.get(f"/v1/conversations/{cid}", headers=auth(me)).status_code == 200
    monkeypatch.setattr(services, "settings", services.settings.changed(auth__customer_session_ttl_h=0.0001))  # 0.36 s
    time.sleep(0.5)
    r = client.get(f"/v1/conversations/{cid}", headers=auth(me))
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    r = client.post("/v1/chat", json={"message": "and the wire cut-off?", "conversation_id": cid}, headers=auth(me))
    assert r.status_code == 401


def test_customer_socket_checks_expiry_on_every_frame(client, services, monkeypatch):
    monkeypatch.setattr(services, "settings", services.settings.changed(auth__customer_session_ttl_h=0.0003))  # about a second
    with client.websocket_connect("/v1/chat/ws") as ws:
        ws.send_json({"message": "What is your routing number?"})
        me = ws.receive_json()
        while ws.receive_json()["type"] != "reply":
            pass
        time.sleep(1.2)
        ws.send_json({"message": "and the wire cut-off?", "conversation_id": me["conversation_id"]})
        error = ws.receive_json()
        assert error["type"] == "error" and error["status"] == 401 and "expired" in error["detail"]


# --- item 6: tokens out of URLs and out of logs

def test_agent_socket_refuses_a_token_in_the_url(services):
    with app_client(services, auth__ws_auth_timeout_s=0.3) as c:
        token = login(c, new_agent(services)).json()["token"]
        with c.websocket_connect(f"/v1/agent/ws?token={token}") as ws, pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401


@contextlib.contextmanager
def live_server(settings, services):
    """The app on a real uvicorn server (its own access log and websocket protocol); yields the port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, services), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(5)


def test_access_log_never_shows_a_query_string_token(settings, services, caplog):
    import httpx
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    root = logging.getLogger()
    kept = root.handlers[:], root.level
    configure_logging("INFO")  # installs the scrubber on uvicorn's loggers
    root.handlers[:] = kept[0]  # pytest's capture handlers back; the uvicorn loggers keep the scrubber
    root.setLevel(kept[1])
    secret = "cst_" + uuid.uuid4().hex
    with live_server(settings, services) as port, caplog.at_level(logging.INFO):
        with contextlib.suppress(ConnectionClosed), connect(f"ws://127.0.0.1:{port}/v1/agent/ws?token={secret}&x=1") as ws:
            ws.send('{"type": "auth", "token": "nope"}')
            ws.recv(timeout=5)  # closed 4401
        assert httpx.get(f"http://127.0.0.1:{port}/v1/kb/search?q={secret}&k=2", timeout=30).status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("uvicorn")]
    assert any("/v1/agent/ws?token=" in line for line in lines), lines  # the line is there, its value is not
    assert not any(secret in line for line in lines)


def test_voice_socket_takes_the_session_token_in_its_first_frame(client, services):
    if services.voice is None:
        pytest.skip("speech is not installed")
    me = client.post("/v1/chat", json={"message": "What is your routing number?"}).json()
    cid = me["conversation_id"]
    with client.websocket_connect(f"/v1/voice/pcm?conversation_id={cid}&session_token={me['session_token']}") as ws:
        ws.send_json({"type": "auth", "token": "cst_wrong"})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4403
    with client.websocket_connect(f"/v1/voice/pcm?conversation_id={cid}") as ws:
        ws.send_json({"type": "auth", "token": me["session_token"]})
        ready = ws.receive_json()
        assert ready["type"] == "ready" and ready["conversation_id"] == cid


# --- low items: robot conversations, closed tickets, the chat frame parser

def robot(services, branch):
    name = f"robot-{uuid.uuid4().hex[:8]}"
    return name, services.robots.add(name, branch)[1]


def hello(ws, token, **extra):
    ws.send_json({"v": 1, "type": "hello", "token": token, **extra})
    return ws.receive_json()


def test_a_robot_resumes_only_its_own_conversations(client, services):
    _, mine = robot(services, "branch-north")
    _, other = robot(services, "branch-south")
    with client.websocket_connect("/v1/robot") as ws:
        cid = hello(ws, mine)["conversation_id"]
    with client.websocket_connect("/v1/robot") as ws:
        assert hello(ws, other, conversation_id=cid)["conversation_id"] != cid
    with client.websocket_connect("/v1/robot") as ws:
        assert hello(ws, mine, conversation_id=cid)["conversation_id"] == cid


def test_revoking_a_robot_ends_its_live_session(client, services):
    name, token = robot(services, "branch-north")
    with client.websocket_connect("/v1/robot") as ws:
        assert hello(ws, token)["type"] == "session"
        assert services.robots.revoke(name)
        ws.send_json({"v": 1, "type": "text", "text": "What is your routing number?"})
        assert ws.receive_json() == {"v": 1, "type": "bye", "reason": "revoked"}
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401


def test_reference_robot_client_stops_when_revoked(settings, services):
    from assistant.robot_client import RobotClient

    name, token = robot(services, "branch-west")
    with live_server(settings, services) as port:
        client = RobotClient(f"ws://127.0.0.1:{port}/v1/robot", token, out=lambda _: None)
        services.robots.revoke(name)
        events = client.ask("What is your routing number?")
        client.close()  # no error on a socket the server closed
    assert events[-1] == {"v": 1, "type": "bye", "reason": "revoked"}
    assert client._next_json(5) == {"type": "closed", "code": 4401, "reason": "robot token revoked"}


def test_revoked_robot_session_closes_without_a_turn(client, services, monkeypatch):
    monkeypatch.setattr(services, "settings", services.settings.changed(auth__session_recheck_s=0.2))
    name, token = robot(services, "branch-east")
    with client.websocket_connect("/v1/robot") as ws:
        assert hello(ws, token)["type"] == "session"
        services.robots.revoke(name)
        assert ws.receive_json()["reason"] == "revoked"


def test_a_claimed_or_closed_ticket_is_read_by_its_agent_and_admins_only(client, services):
    me = client.post("/v1/chat", json={"message": "What is your routing number?"}).json()
    client.post(f"/v1/conversations/{me['conversation_id']}/handoff", headers=auth(me))
    holder, other = bearer(login(client, new_agent(services))), bearer(login(client, new_agent(services)))
    boss = bearer(login(client, new_agent(services, role="admin")))
    ticket = next(t for t in client.get("/v1/agent/tickets", headers=holder).json()
                  if t["conversation_id"] == me["conversation_id"])
    url = f"/v1/agent/tickets/{ticket['id']}"
    assert client.get(url, headers=other).status_code == 200  # queued: any agent may look before claiming
    client.post(url + "/claim", headers=holder)
    client.post(url + "/close", headers=holder, json={"resolution": "resolved"})
    assert client.get(url, headers=other).status_code == 403
    assert client.get(url, headers=holder).status_code == 200 and client.get(url, headers=boss).status_code == 200


def test_a_chat_message_saying_resume_is_a_chat_message(client):
    with client.websocket_connect("/v1/chat/ws") as ws:
        ws.send_json({"message": "resume"})
        first = ws.receive_json()
        assert first["type"] == "session", first
        ws.send_json({"type": "resume"})  # a resume frame without its fields is a clear 422
        while (frame := ws.receive_json())["type"] != "error":
            pass
        assert frame["status"] == 422

