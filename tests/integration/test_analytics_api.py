"""The analytics API over the real app (MiniLM, SQLite): roles, figures, CSV export, drills, transcripts,
knowledge gaps with the real embedder, and the customer's satisfaction answer."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import pytest

from tests.analytics_seed import seed
from tests.conftest import auth

PW = "tangerine-ladder-42"
RANGE = {"start": "2025-03-01", "end": "2025-03-14"}  # the seeded history, a year back


def staff(client, services, *roles: str) -> dict:
    name = f"{roles[0]}-{uuid.uuid4().hex[:8]}"
    services.agents.add(name, PW, role=list(roles))
    r = client.post("/v1/agent/login", json={"username": name, "password": PW})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture(scope="module")
def history(services):
    return seed(services.conversations._engine, years_back=1)


@pytest.fixture(scope="module")
def boss(client, services):
    return staff(client, services, "supervisor")


def test_roles_gate_every_route(client, services, history, boss):
    agent = staff(client, services, "agent")
    editor = staff(client, services, "kb_editor")
    for path in ("/v1/analytics/figures", "/v1/analytics/figures/overview", "/v1/analytics/figures/routes/csv",
                 "/v1/analytics/drill?figure=routes&key=faq&column=replies", f"/v1/analytics/conversations?ids={history['c1']}"):
        assert client.get(path).status_code == 401
        r = client.get(path, headers=agent)
        assert r.status_code == 403 and "supervisor role" in r.json()["detail"], path
        assert client.get(path, headers=editor).status_code == 403
        assert client.get(path, headers=boss).status_code == 200, path
    assert client.get("/v1/analytics/gaps", headers=agent).status_code == 403
    assert client.get("/v1/analytics/gaps", headers=editor).status_code == 200
    assert client.post("/v1/analytics/gaps/refresh", headers=editor).status_code == 403


def test_figures_filters_and_csv_export(client, history, boss):
    r = client.get("/v1/analytics/figures/overview", params=RANGE, headers=boss)
    assert r.json()["rows"][:2] == [["Conversations", 6], ["Contained (no person)", 4]]
    web = client.get("/v1/analytics/figures/overview", params={**RANGE, "channel": "web"}, headers=boss).json()
    assert web["rows"][0] == ["Conversations", 4]
    assert set(client.get("/v1/analytics/figures", headers=boss).json()["figures"]) >= {
        "overview", "series", "channels", "handoff_reasons", "routes", "intents_top", "intents_rising", "unanswered",
        "flows", "csat", "thumbs_down_docs", "agents", "queue", "gaps"}
    for figure in client.get("/v1/analytics/figures", headers=boss).json()["figures"]:
        r = client.get(f"/v1/analytics/figures/{figure}/csv", params=RANGE, headers=boss)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), figure
        assert f'filename="{figure}_2025-03-01_2025-03-14.csv"' in r.headers["content-disposition"]
        table = client.get(f"/v1/analytics/figures/{figure}", params=RANGE, headers=boss).json()
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows[0] == [c["label"] for c in table["columns"]] and len(rows) == len(table["rows"]) + 1, figure
    reasons = list(csv.reader(io.StringIO(client.get("/v1/analytics/figures/handoff_reasons/csv", params=RANGE,
                                                     headers=boss).text)))
    assert reasons[1:] == [["complaint with negative sentiment", "1", "0.1667"], ["explicit request for a human", "1", "0.1667"]]
    for bad in ({"start": "2025-03-14", "end": "2025-03-01"}, {"start": "2020-01-01", "end": "2025-03-01"},
                {"channel": "fax"}, {"granularity": "month"}):
        assert client.get("/v1/analytics/figures/overview", params=bad, headers=boss).status_code == 422, bad
    assert client.get("/v1/analytics/figures/nope", headers=boss).status_code == 404


def test_drill_and_redacted_transcripts(client, history, boss):
    r = client.get("/v1/analytics/drill", params={**RANGE, "figure": "handoff_reasons", "column": "tickets",
                                                   "key": "explicit request for a human"}, headers=boss)
    assert r.status_code == 200 and r.json()["conversation_ids"] == [history["c2"]] and r.json()["more"] is False
    got = client.get("/v1/analytics/conversations", params={"ids": f"{history['c2']},{history['c1']}"}, headers=boss).json()
    c2 = got["conversations"][0]
    assert [m["text"] for m in c2["messages"]][:3] == ["my card is lost", "Call us to block it.", "talk to a person"]
    assert c2["csat"] == {"score": 2, "comment": "too slow, my card [CARD]"}
    assert client.get("/v1/analytics/drill", params={**RANGE, "figure": "routes", "key": "faq", "column": "bogus"},
                      headers=boss).status_code == 200  # a message figure: every column is its replies
    assert client.get("/v1/analytics/drill", params={**RANGE, "figure": "nope", "key": "x", "column": "y"},
                      headers=boss).status_code == 404
    assert client.get("/v1/analytics/conversations", params={"ids": ",".join(["x"] * 201)}, headers=boss).status_code == 422


def test_gaps_contract_with_the_real_embedder(client, services, boss):
    repo = services.conversations
    themes = {
        "delivery": ["when will my new debit card arrive", "my new card has not arrived yet",
                     "how long until my replacement card arrives", "new debit card still not delivered"],
        "crypto": ["can I buy bitcoin with my account", "do you sell bitcoin", "how do I buy bitcoin here",
                   "is buying bitcoin possible"],
    }
    asked = {}
    for questions in themes.values():
        for q in questions:
            cid = repo.create("web")
            repo.add(cid, role="user", text=q, channel="web", intent="other", intent_confidence=0.3)
            repo.add(cid, role="assistant", text="I don't know.", channel="web", path="no_answer")
            asked[q] = cid
    assert client.post("/v1/analytics/gaps/refresh", params={"full": "true"}, headers=boss).json()["reclustered"]
    body = client.get("/v1/analytics/gaps", headers=boss).json()
    assert list(body) == ["gaps"]
    for gap in body["gaps"]:
        assert gap.keys() == {"id", "name", "count", "examples", "conversation_ids"}
        assert isinstance(gap["id"], str) and isinstance(gap["count"], int) and gap["count"] >= len(gap["examples"])
    for name, questions in themes.items():
        gap = next(g for g in body["gaps"] if set(questions) & set(g["examples"]))
        assert set(g for g in gap["examples"] if g in asked) <= set(questions), (name, gap)
        assert {asked[q] for q in questions} <= set(gap["conversation_ids"]) or gap["count"] >= len(questions)
        assert name in gap["name"] or any(w in gap["name"] for w in ("card", "bitcoin", "arrive", "deliver")), gap["name"]


def test_customer_satisfaction_answer(client, services):
    r = client.post("/v1/chat", json={"message": "What is your routing number?", "channel": "web"})
    assert r.status_code == 200 and r.json()["survey"] is False
    cid, headers = r.json()["conversation_id"], auth(r.json())
    url = f"/v1/conversations/{cid}/csat"
    assert client.post(url, json={"score": 4}).status_code == 401
    assert client.post(url, json={"score": 6}, headers=headers).status_code == 422
    assert client.post(url, json={"score": 4, "extra": 1}, headers=headers).status_code == 422
    r = client.post(url, json={"score": 4, "comment": "fine, card 4111 1111 1111 1111 was safe"}, headers=headers)
    assert r.status_code == 201 and r.json() == {"conversation_id": cid, "score": 4}
    assert client.post(url, json={"score": 5}, headers=headers).status_code == 409
    other = client.post("/v1/chat", json={"message": "hello", "channel": "web"}).json()
    assert client.post(url, json={"score": 5}, headers=auth(other)).status_code == 403
    stored = services.analytics.transcripts([cid])[0]["csat"]
    assert stored == {"score": 4, "comment": "fine, card [CARD] was safe"}
    bye = client.post("/v1/chat", json={"conversation_id": cid, "message": "Goodbye!", "channel": "web"}, headers=headers)
    assert bye.json()["path"] == "small_talk" and bye.json()["survey"] is True


def test_robot_survey_on_screen(client, services):
    _, token = services.robots.add(f"lobby-{uuid.uuid4().hex[:6]}", "branch-csat")
    with client.websocket_connect("/v1/robot") as ws:
        ws.send_json({"v": 1, "type": "hello", "token": token})
        session = ws.receive_json()
        ws.send_json({"v": 1, "type": "text", "text": "Goodbye!"})
        frames = []
        while not frames or frames[-1]["type"] != "survey":
            frames.append(ws.receive_json())
        assert frames[-2]["type"] == "reply" and frames[-1]["conversation_id"] == session["conversation_id"]
        assert frames[-1]["scores"] == [1, 2, 3, 4, 5]
        ws.send_json({"v": 1, "type": "csat", "score": 5, "comment": "lovely robot"})
        assert ws.receive_json() == {"v": 1, "type": "csat_saved", "score": 5}
        ws.send_json({"v": 1, "type": "csat", "score": 1})
        assert ws.receive_json()["code"] == "already_rated"
        ws.send_json({"v": 1, "type": "done"})
        assert ws.receive_json()["code"] == "already_rated"
        ws.send_json({"v": 1, "type": "csat", "score": 9})
        assert ws.receive_json()["code"] == "malformed"
    assert services.analytics.transcripts([session["conversation_id"]])[0]["csat"] == {"score": 5, "comment": "lovely robot"}


def test_cli_prints_a_figure_as_csv_and_refreshes_gaps(tmp_path):
    import subprocess
    import sys

    env = {"BANK_STORAGE__DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "assistant.cli", "analytics", *a], env=env,  # noqa: E731
                                    capture_output=True, text=True, timeout=300)
    figure = run("figure", "overview", "--start", "2025-03-01", "--end", "2025-03-14")
    assert figure.returncode == 0, figure.stderr
    assert figure.stdout.splitlines()[:2] == ["Metric,Value", "Conversations,0"]
    assert run("figure", "nope").returncode == 2
    gaps = run("gaps", "--full")
    assert gaps.returncode == 0 and "knowledge gaps: 0 (0 new questions read)" in gaps.stdout, gaps.stderr


def test_flow_replies_store_their_route_and_outcome(client, services, settings, boss):
    """A signed-in customer's balance (a flow that ends on its first turn) and a card freeze cancelled midway:
    each reply stores its dialogue route, the flow and how it ended, which the flows figure counts."""
    import httpx

    def turn(cid: str, headers: dict, message: str, identity: str | None = None) -> dict:
        body = {"conversation_id": cid, "message": message, "channel": "web", **({"identity": identity} if identity else {})}
        r = client.post("/v1/chat", json=body, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()

    day = str(datetime.now(UTC).date())
    today = {"start": day, "end": day}
    before = {r[0]: r for r in client.get("/v1/analytics/figures/flows", params=today, headers=boss).json()["rows"]}
    bank = httpx.Client(base_url=settings.banking.url, timeout=10)
    convs = []
    for first, then in (("what's my balance?", None), ("freeze my debit card", "cancel")):
        started = client.post("/v1/conversations", json={"channel": "web"}).json()
        cid, headers = started["conversation_id"], {"authorization": f"Bearer {started['session_token']}"}
        assertion = bank.post("/sandbox/assertions", json={"customer_id": "cus_alex", "conversation_id": cid}).json()
        reply = turn(cid, headers, first, assertion["assertion"])
        assert reply["route"]["kind"] == "flow_start", reply
        if then:
            assert turn(cid, headers, then)["route"]["kind"] == "cancel"
        convs.append(cid)
    stored = [[(m["route"], m["flow"]) for m in c["messages"] if m["role"] == "assistant"]
              for c in services.analytics.transcripts(convs)]
    assert stored[0] == [("flow_start", "check_balance")]
    assert stored[1] == [("flow_start", "freeze_card"), ("cancel", "freeze_card")]
    after = {r[0]: r for r in client.get("/v1/analytics/figures/flows", params=today, headers=boss).json()["rows"]}
    grew = lambda flow, i: after[flow][i] - (before[flow][i] if flow in before else 0)  # noqa: E731
    assert (grew("check_balance", 1), grew("check_balance", 2)) == (1, 1)  # started, completed
    assert (grew("freeze_card", 1), grew("freeze_card", 3)) == (1, 1)  # started, cancelled


def test_dashboard_and_survey_off_are_clean_errors(client, services, boss, monkeypatch):
    """A server built without analytics or satisfaction storage answers 503 / `not_ready`, never a 500."""
    r = client.post("/v1/chat", json={"message": "What is your routing number?", "channel": "web"})
    cid, headers = r.json()["conversation_id"], auth(r.json())
    _, token = services.robots.add(f"lobby-{uuid.uuid4().hex[:6]}", "branch-off")
    monkeypatch.setattr(services, "analytics", None)
    monkeypatch.setattr(services, "csat", None)
    assert client.get("/v1/analytics/figures", headers=boss).status_code == 503
    assert client.post(f"/v1/conversations/{cid}/csat", json={"score": 4}, headers=headers).status_code == 503
    with client.websocket_connect("/v1/robot") as ws:
        ws.send_json({"v": 1, "type": "hello", "token": token})
        assert ws.receive_json()["type"] == "session"
        ws.send_json({"v": 1, "type": "done"})  # no survey is asked: nothing comes back before the pong
        ws.send_json({"v": 1, "type": "ping", "id": "1"})
        assert ws.receive_json() == {"v": 1, "type": "pong", "id": "1"}
        ws.send_json({"v": 1, "type": "csat", "score": 5})
        assert ws.receive_json()["code"] == "not_ready"
