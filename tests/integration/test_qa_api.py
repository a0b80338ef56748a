"""Quality inspection end to end on the real services: a conversation with a bot part and an agent
part is closed, scored by the worker's batch with evidence, queued by risk, reviewed (an override
moves the agreement figure) and reported as CSV and PDF; roles gate every route."""

import uuid

import pytest

from tests.conftest import auth

PW = "tangerine-ladder-42"


def staff(client, services, role: str) -> tuple[str, dict]:
    name = f"{role}-{uuid.uuid4().hex[:6]}"
    services.agents.add(name, PW, role=[role])
    r = client.post("/v1/agent/login", json={"username": name, "password": PW})
    assert r.status_code == 200, r.text
    return name, {"Authorization": f"Bearer {r.json()['token']}"}


def agent_conversation(client, services, lines: list[str]) -> tuple[str, str, list[int]]:
    """A customer asks the bot, asks for a person; an agent claims, writes `lines`, closes."""
    agent, headers = staff(client, services, "agent")
    first = client.post("/v1/chat", json={"message": "How do I freeze my card?"}).json()
    cid = first["conversation_id"]
    r = client.post("/v1/chat", json={"conversation_id": cid, "message": "can I talk to a real person"}, headers=auth(first))
    assert r.json()["handoff"]["active"], r.text
    ticket = next(t for t in client.get("/v1/agent/tickets", headers=headers).json() if t["conversation_id"] == cid)
    assert client.post(f"/v1/agent/tickets/{ticket['id']}/claim", headers=headers).status_code == 200
    ids = [client.post(f"/v1/agent/tickets/{ticket['id']}/messages", json={"text": line}, headers=headers).json()["message_id"]
           for line in lines]
    assert client.post(f"/v1/agent/tickets/{ticket['id']}/close", json={"resolution": "resolved"}, headers=headers).status_code == 200
    return cid, agent, ids


def test_roles_without_qa_permission_get_403(client, services):
    _, editor = staff(client, services, "kb_editor")
    _, agent = staff(client, services, "agent")
    _, reviewer = staff(client, services, "qa_reviewer")
    for headers in (editor, agent):
        r = client.get("/v1/qa/queue", headers=headers)
        assert r.status_code == 403 and "qa_reviewer or supervisor role" in r.json()["detail"]
    assert client.get("/v1/qa/queue", headers=reviewer).status_code == 200
    r = client.post("/v1/qa/score", json={"idle_minutes": 0}, headers=reviewer)  # scoring on demand: supervisors
    assert r.status_code == 403 and "supervisor role" in r.json()["detail"]
    assert client.get("/v1/qa/agreement").status_code == 401


def test_a_closed_conversation_is_scored_with_evidence_reviewed_and_reported(client, services):
    cid, agent, ids = agent_conversation(client, services, [
        "Hello, I'm Rita from Larkspur.", "To check the card I need your PIN please.", "Thanks, have a great day!"])
    _, boss = staff(client, services, "supervisor")
    _, reviewer = staff(client, services, "qa_reviewer")
    assert client.post("/v1/qa/score", json={"idle_minutes": 0}, headers=boss).json()["scored"] >= 1
    rows = client.get(f"/v1/qa/scores?agent={agent}", headers=reviewer).json()
    if not rows:  # the suite's older conversations filled the batch (oldest first): score this one
        services.qa.score_conversation(cid)
        rows = client.get(f"/v1/qa/scores?agent={agent}", headers=reviewer).json()
    assert [r["conversation_id"] for r in rows] == [cid]
    detail = client.get(f"/v1/qa/scores/{rows[0]['id']}", headers=reviewer).json()
    items = {(i["item_id"], i["part"]): i for i in detail["items"]}
    secret = items[("no_secret_request", "agent")]
    assert secret["result"] == "fail" and secret["message_id"] == ids[1]
    text = next(m["text"] for m in detail["messages"] if m["id"] == ids[1])
    assert text[secret["span"][0]:secret["span"][1]] == "To check the card I need your PIN please."
    assert items[("greeting", "agent")]["result"] == "pass" and items[("cited_sources", "bot")]["result"] in ("pass", "na")
    assert "critical_fail" in detail["risk"]
    assert rows[0]["id"] in [q["id"] for q in client.get("/v1/qa/queue?limit=500", headers=reviewer).json()]

    before = client.get("/v1/qa/agreement", headers=reviewer).json()
    verdicts = [{"item_result_id": i["id"], "result": i["result"]} for i in detail["items"]]
    verdicts[0]["result"] = next(r for r in ("pass", "fail", "na") if r != detail["items"][0]["result"])  # one override
    done = client.post(f"/v1/qa/scores/{detail['id']}/review", json={"verdicts": verdicts}, headers=reviewer).json()
    assert done["reviewed_at"] is not None
    after = client.get("/v1/qa/agreement", headers=reviewer).json()
    assert after["reviewed"] == before["reviewed"] + len(verdicts)
    assert after["agreed"] == before["agreed"] + len(verdicts) - 1
    assert detail["id"] not in [q["id"] for q in client.get("/v1/qa/queue?limit=500", headers=reviewer).json()]

    report = client.get("/v1/qa/reports?group=agent", headers=reviewer).json()
    mine = next(r for r in report if r["key"] == agent)
    assert mine["conversations"] == 1 and mine["trend"] and mine["filter"] == {"agent": agent}
    csv = client.get("/v1/qa/reports?group=week&format=csv", headers=reviewer)
    assert csv.status_code == 200 and csv.text.startswith("group,key,conversations,mean_score")
    assert client.get("/v1/qa/scores?week=2026-W99", headers=reviewer).status_code == 422
    bad = client.post(f"/v1/qa/scores/{detail['id']}/review", json={"verdicts": [{"item_result_id": 999999, "result": "pass"}]},
                      headers=reviewer)
    assert bad.status_code == 422 and "not part of score" in bad.json()["detail"]


def test_reports_export_as_pdf(client, services):
    pytest.importorskip("fpdf")
    _, reviewer = staff(client, services, "qa_reviewer")
    r = client.get("/v1/qa/reports?group=team&format=pdf", headers=reviewer)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
