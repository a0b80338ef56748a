"""The phone survey after an agent: the TwiML of a transfer carries the survey URL (<Dial action>, <Enqueue action>),
the caller hears <Gather numDigits="1"> when the agent leg ends, one key 1-5 is stored once for the call's
conversation; bad input gets a 4xx with a message. The telephony routes on a small app, the real CsatRepository
on SQLite, signed requests as Twilio signs them."""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from assistant.analytics.csat import CsatRepository
from assistant.api.routes import telephony, telephony_survey
from assistant.api.routes.voice_deps import call_directory, survey_tokens
from assistant.channels.voice_types import CallOutcome, VoicePrompts
from assistant.config import Settings
from assistant.storage.analytics_tables import CsatResponse
from assistant.storage.db import make_engine, migrate, session_factory
from assistant.storage.models import Conversation, utcnow
from voice import twilio

TOKEN = "twilio-auth-token-for-the-survey-tests"
BASE = "http://testserver"


@dataclass
class Conversations:
    engine: object

    async def create_async(self, channel: str) -> str:
        cid = uuid.uuid4().hex
        with self.engine.begin() as c:  # type: ignore[attr-defined]
            c.execute(insert(Conversation.__table__).values(id=cid, channel=channel, status="bot", created_at=utcnow(),
                                                            updated_at=utcnow()))
        return cid


@dataclass
class Services:
    conversations: Conversations
    csat: CsatRepository
    voice: object = field(default_factory=object)  # the routes only check that speech is there


@pytest.fixture
def phone(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    migrate(engine)

    def make(**changes) -> TestClient:
        app = FastAPI()
        app.state.settings = Settings(_env_file=None, storage={"data_dir": tmp_path}, voice={"twilio_auth_token": TOKEN}).changed(**changes)
        app.state.services = Services(Conversations(engine), CsatRepository(session_factory(engine)))
        app.include_router(telephony.router)
        app.include_router(telephony_survey.router)
        return TestClient(app)

    yield make, engine
    engine.dispose()


def post(client: TestClient, url: str, *, sign: bool = True, **form: str):
    """POST a form to an absolute URL as Twilio does: X-Twilio-Signature over the URL and the sorted parameters."""
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if sign:
        headers["x-twilio-signature"] = twilio.signature(TOKEN, url, form)
    return client.post(url, content=urlencode(form), headers=headers)


def verb(xml: str, name: str) -> ET.Element | None:
    return ET.fromstring(xml).find(name)


def ratings(engine) -> list[tuple]:
    t = CsatResponse.__table__
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(select(t.c.conversation_id, t.c.channel, t.c.score))]


def transfer(client: TestClient, call_sid: str) -> tuple[str, str]:
    """A call that asked for an agent: (its conversation id, the TwiML /twiml/next answered)."""
    r = post(client, BASE + "/v1/voice/twiml", CallSid=call_sid, From="+15551234567")
    assert r.status_code == 200, r.text
    next_url = verb(r.text, "Connect").get("action")
    asyncio.run(call_directory(client.app).set(call_sid, CallOutcome("transfer", reason="dtmf")))
    r = post(client, next_url, CallSid=call_sid, CallStatus="in-progress")
    assert r.status_code == 200, r.text
    token = next_url.split("call=", 1)[1]
    return survey_tokens(client.app).verify(token, call_sid).conversation_id, r.text


def test_after_the_agent_the_caller_rates_once_and_is_thanked(phone):
    make, engine = phone
    client = make(handoff__agent_transfer_number="+15550100")
    cid, xml = transfer(client, "CA1")
    dial = verb(xml, "Dial")
    assert dial is not None and dial.text == "+15550100" and dial.get("action").startswith(BASE + "/v1/voice/csat?call=")
    r = post(client, dial.get("action"), CallSid="CA1", CallStatus="in-progress", DialCallStatus="completed")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    gather = verb(r.text, "Gather")
    assert gather.get("numDigits") == "1" and gather.get("action").startswith(BASE + "/v1/voice/csat/answer?call=")
    assert gather.find("Say").text == VoicePrompts().csat_ask
    assert r.text.endswith("</Gather><Say>Thank you for calling. Goodbye.</Say><Hangup/></Response>")  # no key: no rating
    answer = gather.get("action")
    r = post(client, answer, CallSid="CA1", Digits="4")
    assert r.status_code == 200 and verb(r.text, "Say").text == VoicePrompts().csat_thanks and "<Hangup/>" in r.text
    assert ratings(engine) == [(cid, "voice", 4)]
    again = post(client, answer, CallSid="CA1", Digits="5")
    assert again.status_code == 409 and "rated already" in again.json()["detail"]
    assert ratings(engine) == [(cid, "voice", 4)]
    r = post(client, dial.get("action"), CallSid="CA1", CallStatus="in-progress", DialCallStatus="completed")
    assert verb(r.text, "Gather") is None and "<Hangup/>" in r.text  # rated: not asked again


def test_the_queue_path_asks_after_a_bridged_call_only(phone):
    make, engine = phone
    client = make()
    _, xml = transfer(client, "CA2")
    enqueue = verb(xml, "Enqueue")
    assert enqueue.text == "bank-agents" and enqueue.get("waitUrl") == BASE + "/v1/voice/hold"
    action = enqueue.get("action")
    left = post(client, action, CallSid="CA2", CallStatus="in-progress", QueueResult="hangup")
    assert left.status_code == 200 and verb(left.text, "Gather") is None
    bridged = post(client, action, CallSid="CA2", CallStatus="in-progress", QueueResult="bridged")
    assert verb(bridged.text, "Gather") is not None


@pytest.mark.parametrize("form", [{"DialCallStatus": "no-answer", "CallStatus": "in-progress"},
                                  {"DialCallStatus": "busy", "CallStatus": "in-progress"},
                                  {"DialCallStatus": "completed", "CallStatus": "completed"}])
def test_no_survey_when_no_agent_answered_or_the_caller_left(phone, form):
    make, engine = phone
    client = make(handoff__agent_transfer_number="+15550100")
    _, xml = transfer(client, "CA3")
    r = post(client, verb(xml, "Dial").get("action"), CallSid="CA3", **form)
    assert r.status_code == 200 and verb(r.text, "Gather") is None and "<Hangup/>" in r.text
    assert ratings(engine) == []


def test_bad_input_is_refused_with_a_message(phone):
    make, engine = phone
    client = make(handoff__agent_transfer_number="+15550100")
    cid, _ = transfer(client, "CA4")
    token = survey_tokens(client.app).issue(cid, "CA4")
    answer = f"{BASE}/v1/voice/csat/answer?call={token}"
    for digits in ("7", "0", "*", "", "12", "x"):
        r = post(client, answer, CallSid="CA4", Digits=digits)
        assert r.status_code == 422 and "1 to 5" in r.json()["detail"], digits
    assert post(client, answer, CallSid="CA4").status_code == 422  # no Digits at all
    unsigned = post(client, answer, sign=False, CallSid="CA4", Digits="5")
    assert unsigned.status_code == 403 and "X-Twilio-Signature" in unsigned.json()["detail"]
    forged = client.post(answer, content="CallSid=CA4&Digits=5", headers={
        "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilio.signature(TOKEN, answer, {})})
    assert forged.status_code == 403
    for url, why in ((f"{BASE}/v1/voice/csat/answer", "no call parameter"),
                     (f"{BASE}/v1/voice/csat/answer?call={token[:-4]}AAAA", "not valid"),
                     (f"{BASE}/v1/voice/csat/answer?call={survey_tokens(client.app).issue(cid, 'CAother')}", "another call")):
        r = post(client, url, CallSid="CA4", Digits="5")
        assert r.status_code == 403 and why in r.json()["detail"], (url, r.text)
    r = post(client, answer, CallSid="CAother", Digits="5")  # a genuine token shown by another call
    assert r.status_code == 403 and "another call" in r.json()["detail"]
    ghost = survey_tokens(client.app).issue("no-such-conversation", "CA4")
    for path, form in (("/v1/voice/csat", {"DialCallStatus": "completed"}), ("/v1/voice/csat/answer", {"Digits": "3"})):
        r = post(client, f"{BASE}{path}?call={ghost}", CallSid="CA4", **form)
        assert r.status_code == 404 and "no such conversation" in r.json()["detail"]
    assert ratings(engine) == []


def test_a_forged_call_parameter_at_twiml_next_transfers_without_the_survey(phone):
    make, _ = phone
    client = make(handoff__agent_transfer_number="+15550100")
    asyncio.run(call_directory(client.app).set("CA5", CallOutcome("transfer")))
    r = post(client, f"{BASE}/v1/voice/twiml/next?call=forged", CallSid="CA5", CallStatus="in-progress")
    dial = verb(r.text, "Dial")
    assert r.status_code == 200 and dial.text == "+15550100" and dial.get("action") is None


def test_bank_voice_csat_false_turns_it_off(phone):
    make, engine = phone
    client = make(handoff__agent_transfer_number="+15550100", voice__csat=False)
    r = post(client, BASE + "/v1/voice/twiml", CallSid="CA6")
    assert verb(r.text, "Connect").get("action") == BASE + "/v1/voice/twiml/next"
    asyncio.run(call_directory(client.app).set("CA6", CallOutcome("transfer")))
    r = post(client, BASE + "/v1/voice/twiml/next", CallSid="CA6", CallStatus="in-progress")
    assert verb(r.text, "Dial").get("action") is None
    token = survey_tokens(client.app).issue("c", "CA6")
    r = post(client, f"{BASE}/v1/voice/csat?call={token}", CallSid="CA6", DialCallStatus="completed")
    assert r.status_code == 404 and "BANK_VOICE__CSAT=false" in r.json()["detail"]
