"""Staff roles end to end: the CLI sets them, login reports them, routes check them."""

import subprocess
import sys
import uuid

import pytest
from starlette.websockets import WebSocketDisconnect

PW = "tangerine-ladder-42"


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def login(client, username: str) -> dict:
    r = client.post("/v1/agent/login", json={"username": username, "password": PW})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_kb_editor_cannot_use_the_agent_console_but_an_agent_can(client, services):
    services.agents.add(ed := name("eddie"), PW, role=["kb_editor"])
    services.agents.add(al := name("alma"), PW, role=["agent", "qa_reviewer"])
    eddie, alma = login(client, ed), login(client, al)
    assert eddie["agent"]["roles"] == ["kb_editor"]
    assert alma["agent"]["roles"] == ["agent", "qa_reviewer"] and alma["agent"]["role"] == "agent,qa_reviewer"
    r = client.get("/v1/agent/tickets", headers={"Authorization": f"Bearer {eddie['token']}"})
    assert r.status_code == 403 and "agent or supervisor role" in r.json()["detail"]
    assert client.get("/v1/agent/tickets", headers={"Authorization": f"Bearer {alma['token']}"}).status_code == 200
    assert client.post("/v1/agent/logout", headers={"Authorization": f"Bearer {eddie['token']}"}).status_code == 204


def test_the_agent_socket_refuses_a_role_without_console_access(client, services):
    services.agents.add(kb := name("kbonly"), PW, role=["kb_approver"])
    token = login(client, kb)["token"]
    with client.websocket_connect("/v1/agent/ws") as ws:
        ws.send_json({"type": "auth", "token": token})
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:  # an error frame may come first
                ws.receive_json()
    assert closed.value.code == 4401


def test_staff_cli_adds_lists_and_changes_roles(tmp_path):
    env = {"BANK_STORAGE__DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    run = lambda *a, stdin=None: subprocess.run([sys.executable, "-m", "assistant.cli", *a], input=stdin, env=env,  # noqa: E731
                                                capture_output=True, text=True, timeout=120)
    added = run("staff", "add", "sue", "--role", "supervisor", "--role", "kb_approver", "--password-stdin", stdin=PW + "\n")
    assert added.returncode == 0, added.stderr
    assert "kb_approver,supervisor" in added.stdout
    assert run("staff", "roles", "sue", "--role", "qa_reviewer").returncode == 0
    listed = run("agents", "list")
    assert listed.returncode == 0 and "sue" in listed.stdout and "qa_reviewer" in listed.stdout
    bad = run("staff", "roles", "nobody", "--role", "agent")
    assert bad.returncode == 2 and "no account nobody" in bad.stderr
    wrong = run("staff", "add", "x", "--role", "root", "--password-stdin", stdin=PW + "\n")
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
