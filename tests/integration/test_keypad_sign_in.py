"""Keypad sign-in (phone line, branch robot) against the real sandbox bank and the real pipeline."""

import asyncio
import json

import pytest
from sqlalchemy import create_engine, text

from assistant.banking.errors import BankingError
from assistant.banking.setup import build_banking_backend
from assistant.core.events import Reply, UserTurn

ALEX, PRIYA, JORDAN = ("40012345", "2580"), ("40023456", "1357"), ("40034567", "9024")


def run(coro):
    return asyncio.run(coro)


def test_the_bank_checks_the_pin_counts_failures_and_locks(settings, sandbox_bank):
    bank = build_banking_backend(settings)
    ok = run(bank.keypad_sign_in(customer_number=PRIYA[0], pin=PRIYA[1], conversation_id="c-keypad-1"))
    assert ok.customer_id == "cus_priya" and ok.assertion.count(".") == 2
    with pytest.raises(BankingError) as unknown:
        run(bank.keypad_sign_in(customer_number="99999999", pin="1111", conversation_id="c-keypad-1"))
    assert unknown.value.code == "keypad_rejected"  # the same refusal as a wrong PIN: no enumeration
    lefts = []
    for _ in range(2):
        with pytest.raises(BankingError) as wrong:
            run(bank.keypad_sign_in(customer_number=JORDAN[0], pin="0000", conversation_id="c-keypad-1"))
        lefts.append(wrong.value.attempts_left)
    assert lefts == [2, 1]
    for _ in range(2):  # the third wrong PIN locks, and then even the right one is refused
        with pytest.raises(BankingError) as locked:
            run(bank.keypad_sign_in(customer_number=JORDAN[0], pin="0000" if _ == 0 else JORDAN[1],
                                    conversation_id="c-keypad-1"))
        assert locked.value.code == "keypad_locked"


async def _turn(services, cid: str, words: str, channel: str = "voice") -> Reply:
    final = None
    async for ev in services.pipeline.run(UserTurn(words, channel, cid)):
        if isinstance(ev, Reply):
            final = ev
    assert final is not None
    return final


def test_a_caller_signs_in_with_the_keypad_and_the_waiting_flow_carries_on(settings, services):
    cid = services.conversations.create("voice")
    asked = run(_turn(services, cid, "what's my checking account balance?"))
    assert asked.route.kind == "verify" and asked.flow.awaiting == "identity"
    wrong = run(services.keypad.sign_in(cid, ALEX[0], "1111", "voice"))
    assert wrong.status == "rejected" and wrong.attempts_left == 2 and "2 more tries" in wrong.text
    result = run(services.keypad.sign_in(cid, ALEX[0], ALEX[1], "voice"))
    assert result.status == "signed_in" and result.reply.customer_id == "cus_alex"
    assert "$" in result.reply.text and result.reply.route.kind == "verified"
    stored = services.conversations.get(cid).messages
    assert [m.path for m in stored if m.role == "system"] == ["sign_in", "sign_in"]
    assert stored[-1].text == result.reply.text and stored[-1].id == result.reply.message_id
    # The number and PIN went to the bank only: not in messages, nor in the audit trail.
    everything = " ".join(m.text for m in stored)
    with create_engine(settings.sqlalchemy_url).connect() as db:
        rows = db.execute(text("select payload from audit_records where conversation_id = :c"), {"c": cid}).scalars()
        audit = " ".join(r if isinstance(r, str) else json.dumps(r) for r in rows)
    for secret in (ALEX[0], ALEX[1], "1111"):
        assert secret not in everything and secret not in audit
    assert '"method":' in audit and "keypad" in audit


def test_a_robot_visitor_signs_in_on_the_screen(client, services):
    _, token = services.robots.add("lobby-keypad", "branch-downtown")
    with client.websocket_connect("/v1/robot") as ws:
        ws.send_json({"v": 1, "type": "hello", "token": token})
        assert ws.receive_json()["type"] == "session"
        ws.send_json({"v": 1, "type": "text", "text": "what's my savings balance?"})
        reply = _until(ws, "reply")
        assert reply["display"]["screen"] == "sign_in" and "on the screen" in reply["text"], reply
        ws.send_json({"v": 1, "type": "sign_in", "customer_number": "12", "pin": "2580"})
        assert _until(ws, "error")["code"] == "malformed"
        ws.send_json({"v": 1, "type": "sign_in", "customer_number": PRIYA[0], "pin": PRIYA[1]})
        assert _until(ws, "sign_in_result")["status"] == "signed_in"
        balance = _until(ws, "reply")
        assert "$" in balance["text"] and balance["display"]["screen"] == "answer"
        ws.send_json({"v": 1, "type": "text", "text": "move $5 from checking to savings"})
        confirm = _until(ws, "reply")
        assert confirm["display"]["screen"] == "confirm", confirm


def _until(ws, kind: str) -> dict:
    while True:
        frame = ws.receive_json()
        if frame["type"] == kind:
            return frame
