"""Sandbox bank: one-time codes and step-up, cards, disputes (through its HTTP API, in process)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sandbox_bank.app import create_app
from tests.banking_helpers import make_sandbox

ALEX = "/v1/customers/cus_alex"


@pytest.fixture
def bank(tmp_path):
    return make_sandbox(tmp_path)


@pytest.fixture
def client(bank):
    return TestClient(create_app(bank.cfg, db=bank.db))


def send_code(client, purpose="transfer", customer=ALEX):
    r = client.post(f"{customer}/otp", json={"purpose": purpose})
    assert r.status_code == 201, r.text
    challenge = r.json()
    code = next(m["code"] for m in client.get(f"/sandbox/outbox/{customer.rsplit('/', 1)[-1]}").json()
                if m["otp_id"] == challenge["id"])
    return challenge, code


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def pay_maria(client, key, otp_id=None, cents=5_000):
    return client.post(f"{ALEX}/transfers", headers={"Idempotency-Key": key}, json={
        "from_account_id": "acc_alex_chk", "payee_id": "pay_alex_1", "amount": {"amount_cents": cents, "currency": "USD"},
        "otp_id": otp_id})


def test_payee_transfer_needs_a_fresh_verified_code_used_once(bank, client):
    assert pay_maria(client, "k0").json()["code"] == "step_up_required"
    challenge, code = send_code(client)
    assert challenge["destination"] == "•••0001" and challenge["attempts_left"] == 3
    assert pay_maria(client, "k1", challenge["id"]).json()["code"] == "step_up_required"  # sent, not verified
    r = client.post(f"{ALEX}/otp/{challenge['id']}/verify", json={"code": code})
    assert r.status_code == 200 and r.json()["verified"] is True
    r = pay_maria(client, "k2", challenge["id"])
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending" and r.json()["expected_arrival"] == "2026-03-11"
    assert pay_maria(client, "k3", challenge["id"]).json()["code"] == "step_up_required"  # used
    bank.clock.advance(days=1)
    assert client.get(f"{ALEX}/transfers/{r.json()['id']}").json()["status"] == "completed"


def test_a_code_for_one_purpose_does_not_authorise_another(client):
    challenge, code = send_code(client, "contact_update")
    client.post(f"{ALEX}/otp/{challenge['id']}/verify", json={"code": code})
    assert pay_maria(client, "k", challenge["id"]).json()["code"] == "step_up_required"


def test_verified_code_goes_stale(bank, client):
    challenge, code = send_code(client)
    client.post(f"{ALEX}/otp/{challenge['id']}/verify", json={"code": code})
    bank.clock.advance(seconds=bank.cfg.step_up_valid_s + 1)
    assert pay_maria(client, "k", challenge["id"]).json()["code"] == "step_up_required"


def test_wrong_code_then_three_wrong_lock(bank, client):
    challenge, code = send_code(client)
    url = f"{ALEX}/otp/{challenge['id']}/verify"
    r = client.post(url, json={"code": wrong(code)})
    assert r.status_code == 422 and r.json()["code"] == "otp_invalid" and r.json()["attempts_left"] == 2
    assert client.post(url, json={"code": "not digits"}).json()["attempts_left"] == 1
    r = client.post(url, json={"code": wrong(code)})
    assert r.status_code == 423 and r.json()["code"] == "otp_locked"
    assert client.post(url, json={"code": code}).json()["code"] == "otp_locked"  # the right code is too late
    assert client.post(f"{ALEX}/otp", json={"purpose": "transfer"}).status_code == 423  # no new code either
    bank.clock.advance(seconds=bank.cfg.otp_lockout_s + 1)
    fresh, fresh_code = send_code(client)
    assert client.post(f"{ALEX}/otp/{fresh['id']}/verify", json={"code": fresh_code}).status_code == 200


def test_expired_code(bank, client):
    challenge, code = send_code(client)
    bank.clock.advance(seconds=bank.cfg.otp_ttl_s + 1)
    r = client.post(f"{ALEX}/otp/{challenge['id']}/verify", json={"code": code})
    assert r.status_code == 422 and r.json()["code"] == "otp_expired"


def test_another_customers_code_is_not_found(client):
    challenge, code = send_code(client)
    r = client.post(f"/v1/customers/cus_priya/otp/{challenge['id']}/verify", json={"code": code})
    assert r.status_code == 404


def test_daily_payee_limit(bank, client):
    challenge, code = send_code(client)
    client.post(f"{ALEX}/otp/{challenge['id']}/verify", json={"code": code})
    r = pay_maria(client, "big", challenge["id"], cents=bank.cfg.daily_payee_limit_cents + 1)
    assert r.status_code == 422 and r.json()["code"] == "limit_exceeded"
    assert r.json()["remaining_cents"] == bank.cfg.daily_payee_limit_cents
    assert pay_maria(client, "ok", challenge["id"], cents=100).status_code == 201  # the refusal did not use the code


def test_contact_update_with_step_up(client):
    body = {"email": "alex@new.example"}
    assert client.patch(f"{ALEX}/contact", json=body | {"otp_id": "otp_x"}).json()["code"] == "step_up_required"
    challenge, code = send_code(client, "contact_update")
    client.post(f"{ALEX}/otp/{challenge['id']}/verify", json={"code": code})
    assert client.patch(f"{ALEX}/contact", json={"phone": "12345", "otp_id": challenge["id"]}).status_code == 422
    r = client.patch(f"{ALEX}/contact", json=body | {"otp_id": challenge["id"]})
    assert r.status_code == 200 and r.json()["email"] == "alex@new.example"


def test_freeze_unfreeze_and_states(client):
    card = f"{ALEX}/cards/card_alex_debit"
    assert client.post(f"{card}/freeze").json()["status"] == "frozen"
    assert client.post(f"{card}/freeze").json()["status"] == "frozen"  # again: same answer
    assert client.post(f"{card}/unfreeze").json()["status"] == "active"
    r = client.post(f"{ALEX}/cards/card_alex_old/unfreeze")
    assert r.status_code == 409 and r.json()["code"] == "card_state" and r.json()["card_status"] == "lost"
    assert client.post(f"{ALEX}/cards/card_priya_debit/freeze").status_code == 404  # not Alex's card


def test_report_lost_orders_a_replacement_once(client):
    url = f"{ALEX}/cards/card_alex_debit/report"
    r = client.post(url, json={"reason": "lost"}, headers={"Idempotency-Key": "lost-1"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["card"]["status"] == "lost"
    new = body["replacement"]
    assert new["status"] == "inactive" and new["replaces_card_id"] == "card_alex_debit"
    assert new["delivery"]["status"] == "ordered" and new["delivery"]["estimated_delivery"] == "2026-03-17"
    again = client.post(url, json={"reason": "lost"}, headers={"Idempotency-Key": "lost-1"})
    assert again.json() == body  # a retry orders no second card
    assert len(client.get(f"{ALEX}/cards").json()) == 5
    r = client.post(url, json={"reason": "stolen"}, headers={"Idempotency-Key": "lost-2"})
    assert r.json()["code"] == "card_state"
    delivery = client.get(f"{ALEX}/cards/{new['id']}/delivery").json()
    assert delivery["estimated_delivery"] == "2026-03-17"
    activated = client.post(f"{ALEX}/cards/{new['id']}/activate").json()
    assert activated["status"] == "active" and activated["delivery"]["status"] == "delivered"
    assert client.get(f"{ALEX}/cards/card_alex_debit").json()["status"] == "closed"


def test_activate_shipped_card(client):
    assert client.get(f"{ALEX}/cards/card_alex_new/delivery").json()["status"] == "shipped"
    assert client.post(f"{ALEX}/cards/card_alex_new/activate").json()["status"] == "active"
    assert client.post(f"{ALEX}/cards/card_alex_travel/activate").json()["code"] == "card_state"  # frozen


def test_dispute_a_card_payment(client):
    page = client.get(f"{ALEX}/transactions", params={"status": "posted", "kind": "card", "limit": 1}).json()
    txn = page["items"][0]
    url, headers = f"{ALEX}/disputes", {"Idempotency-Key": "d1"}
    r = client.post(url, json={"transaction_id": txn["id"], "reason": "unrecognized"}, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["reference"].startswith("DSP-") and r.json()["amount"]["amount_cents"] == -txn["amount"]["amount_cents"]
    assert client.post(url, json={"transaction_id": txn["id"], "reason": "unrecognized"}, headers=headers).json() == r.json()
    dup = client.post(url, json={"transaction_id": txn["id"], "reason": "duplicate"}, headers={"Idempotency-Key": "d2"})
    assert dup.status_code == 409 and dup.json()["code"] == "dispute_exists"
    pending = client.get(f"{ALEX}/transactions", params={"status": "pending", "limit": 1}).json()["items"][0]
    r = client.post(url, json={"transaction_id": pending["id"], "reason": "other"}, headers={"Idempotency-Key": "d3"})
    assert r.status_code == 409 and r.json()["code"] == "not_disputable"


def test_transaction_search(client):
    def search(**params):
        return client.get(f"{ALEX}/transactions", params=params | {"limit": 100}).json()["items"]

    netflix = search(merchant="NETFLIX")
    assert netflix and all(t["merchant"] == "Netflix" for t in netflix)
    week = search(from_date="2026-03-02", to_date="2026-03-08")
    assert week and all("2026-03-02" <= t["created_at"][:10] <= "2026-03-08" for t in week)
    big = search(min_amount_cents=10_000, direction="debit")
    assert big and all(t["amount"]["amount_cents"] <= -10_000 for t in big)
    assert all(t["status"] == "pending" for t in search(status="pending"))
    page1 = client.get(f"{ALEX}/transactions", params={"limit": 5}).json()
    page2 = client.get(f"{ALEX}/transactions", params={"limit": 5, "cursor": page1["next_cursor"]}).json()
    assert not {t["id"] for t in page1["items"]} & {t["id"] for t in page2["items"]}
    assert client.get(f"{ALEX}/transactions", params={"from_date": "yesterday"}).json()["code"] == "invalid_request"
    assert client.get(f"{ALEX}/transactions", params={"cursor": "abc"}).status_code == 422
    assert client.get("/v1/customers/nobody/transactions").status_code == 404


def test_declined_and_failed_payments_say_why(client):
    declined = client.get("/v1/customers/cus_jordan/transactions", params={"status": "declined"}).json()["items"]
    assert declined and declined[0]["status_reason"] == "insufficient funds"
    failed = client.get("/v1/customers/cus_jordan/transfers", params={"status": "failed"}).json()
    assert failed[0]["status_reason"] == "recipient account closed"
    pending = client.get("/v1/customers/cus_priya/transfers", params={"status": "pending"}).json()
    assert pending[0]["payee_id"] == "pay_priya_1" and pending[0]["expected_arrival"] == "2026-03-11"
