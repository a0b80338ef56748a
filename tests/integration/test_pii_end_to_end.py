"""PII typed, pasted or dictated in every form reaches no stored message, audit record, ticket,
reply frame, agent frame or log line: through the real app, its database and its models."""

from __future__ import annotations

import contextlib
import json
import logging
import re

import pytest
from sqlalchemy import select

from assistant.privacy import luhn_ok
from assistant.storage.models import AuditRecord, Message, Ticket
from tests.conftest import auth

AGENT_PW = "correct-horse-battery"

CARD_DOTS = "4556.7375.8689.9855"
CARD_SPOKEN = "four five five six seven three seven five eight six eight nine nine eight five five"
IBAN = "GB82WEST12345698765432"
SSN = "536.22.8174"
AGENT_CARD = "4929  1234 5678 9015"  # two spaces inside, as pasted from a screen
MESSAGES = [
    f"my card is {CARD_DOTS} and my pin is 4821, is it blocked?",
    f"send the refund to {IBAN} please, my ssn is {SSN}",
    f"card number {CARD_SPOKEN}, cvv 737, exp 08/29",
    "password: Tr0ub4dor&3 and the code is 552199, why can't I log in?",
]
# Raw fragments that must appear nowhere after redaction.
RAW = ["4556", "7375", "8689", "9855", "4821", "WEST1234", "12345698765432", "536.22", "8174", "four five five six",
       "cvv 737", "08/29", "Tr0ub4dor", "552199", "4929", "5678 9015"]


@pytest.fixture(scope="module")
def agent(services):
    with contextlib.suppress(Exception):  # the session-wide database may already hold the agent
        services.agents.add("pii-pat", AGENT_PW, display_name="Pat")
    return "pii-pat"


# Ids and timestamps are not customer text: a timestamp's digits ("…T16:43:15.123456Z") can repeat a PIN by chance.
_NOT_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?")


def _leaks(text: str) -> list[str]:
    text = _NOT_TEXT.sub("", text)
    return [raw for raw in RAW if raw.lower() in text.lower()]


def test_pii_reaches_no_store_frame_or_log(client, services, agent, caplog):
    assert luhn_ok(CARD_DOTS.replace(".", "")) and luhn_ok(AGENT_CARD.replace(" ", ""))
    caplog.set_level(logging.INFO)
    frames: list[dict] = []
    with client.websocket_connect("/v1/chat/ws") as customer:
        customer.send_json({"message": MESSAGES[0]})
        me = customer.receive_json()
        while (frame := customer.receive_json())["type"] != "reply":
            frames.append(frame)
        frames.append(frame)
        cid = frame["conversation_id"]
        for text in MESSAGES[1:]:
            r = client.post("/v1/chat", json={"message": text, "conversation_id": cid}, headers=auth(me))
            assert r.status_code == 200, r.text
            frames.append(r.json())

        assert client.post(f"/v1/conversations/{cid}/handoff", headers=auth(me)).json()["status"] == "waiting"
        pat = {"authorization": "Bearer " + client.post("/v1/agent/login", json={"username": agent, "password": AGENT_PW}).json()["token"]}
        ticket = next(t for t in client.get("/v1/agent/tickets", headers=pat).json() if t["conversation_id"] == cid)
        frames.append(ticket)
        assert client.post(f"/v1/agent/tickets/{ticket['id']}/claim", headers=pat).status_code == 200
        assert customer.receive_json()["type"] == "agent_joined"
        said = f"I can see card {AGENT_CARD} and pin 4821 on file; your code is 552199."
        assert client.post(f"/v1/agent/tickets/{ticket['id']}/messages", headers=pat, json={"text": said}).status_code == 200
        agent_frame = customer.receive_json()
        assert agent_frame["type"] == "agent_message" and "[CARD]" in agent_frame["text"]
        frames.append(agent_frame)
        frames.append(client.get(f"/v1/agent/tickets/{ticket['id']}", headers=pat).json())
        frames.append(client.get(f"/v1/conversations/{cid}", headers=auth(me)).json())

    assert not _leaks(json.dumps(frames, ensure_ascii=False)), _leaks(json.dumps(frames, ensure_ascii=False))
    with services.conversations._sessions() as s:
        stored = [m.text for m in s.scalars(select(Message).where(Message.conversation_id == cid))]
        tickets = [(t.summary, t.reason) for t in s.scalars(select(Ticket).where(Ticket.conversation_id == cid))]
        audit = [r.payload for r in s.scalars(select(AuditRecord).where(AuditRecord.conversation_id == cid))]
    assert len([m for m in stored if "[" in m]) >= len(MESSAGES) + 1  # every message and the agent's, masked
    for where, value in (("messages", stored), ("tickets", tickets), ("audit", audit)):
        found = _leaks(json.dumps(value, ensure_ascii=False))
        assert not found, f"{where} holds {found}"
    assert any(p.get("action") == "message" and p.get("pii_masked") for p in audit)
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert not _leaks(logged), _leaks(logged)


def test_kb_search_query_is_redacted_before_the_encoder(client, services, monkeypatch):
    seen: list[str] = []
    search = services.retriever.search

    def spy(query, *args, **kwargs):
        seen.append(query)
        return search(query, *args, **kwargs)

    monkeypatch.setattr(services.retriever, "search", spy)
    r = client.get("/v1/kb/search", params={"q": f"lost card {CARD_DOTS} pin 4821"})
    assert r.status_code == 200
    assert seen and not _leaks(seen[0]) and "[CARD]" in seen[0]
    assert not _leaks(r.text)
