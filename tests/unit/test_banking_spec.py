"""docs/banking-api.yaml is what the sandbox bank serves: the same operations, and every answer
(successes and refusals) valid against the YAML's schema for its status code."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema_rs
import pytest
import yaml
from fastapi.openapi.utils import get_openapi
from fastapi.testclient import TestClient

from sandbox_bank.app import create_app
from tests.banking_helpers import make_sandbox

SPEC_PATH = Path(__file__).resolve().parents[2] / "docs" / "banking-api.yaml"
SPEC = yaml.safe_load(SPEC_PATH.read_text())
METHODS = {"get", "post", "patch", "put", "delete"}


def spec_operations() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in SPEC["paths"].items() for method in item if method in METHODS}


def deref(node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def template_for(path: str) -> str:
    for template in SPEC["paths"]:
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path):
            return template
    raise AssertionError(f"{path} is in no path of the spec")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Calls every operation (successes and the usual refusals) and keeps each answer."""
    bank = make_sandbox(tmp_path_factory.mktemp("spec"))
    client = TestClient(create_app(bank.cfg, db=bank.db))
    calls: list = []

    def call(method: str, url: str, **kw):
        r = client.request(method, url, **kw)
        calls.append((method, url.split("?")[0], r))
        return r

    c = "/v1/customers/cus_alex"
    key = iter(f"key-{i}" for i in range(1000))
    call("GET", "/v1/health")
    call("GET", c)
    call("GET", "/v1/customers/nobody")
    call("GET", f"{c}/accounts")
    call("GET", f"{c}/accounts/acc_alex_chk")
    call("GET", f"{c}/accounts/acc_nope")
    page = call("GET", f"{c}/transactions", params={"limit": 3}).json()
    call("GET", f"{c}/transactions", params={"from_date": "never"})
    call("GET", f"{c}/transactions/{page['items'][0]['id']}")
    call("GET", f"{c}/transactions/txn_nope")
    call("GET", f"{c}/payees")
    transfer = {"from_account_id": "acc_alex_chk", "to_account_id": "acc_alex_sav",
                "amount": {"amount_cents": 100, "currency": "USD"}}
    t = call("POST", f"{c}/transfers", json=transfer, headers={"Idempotency-Key": "t1"}).json()
    call("POST", f"{c}/transfers", json=transfer, headers={"Idempotency-Key": "t1"})
    call("POST", f"{c}/transfers", json=transfer | {"memo": "x"}, headers={"Idempotency-Key": "t1"})
    call("POST", f"{c}/transfers", json=transfer)
    call("POST", f"{c}/transfers", json=transfer | {"amount": {"amount_cents": 0, "currency": "USD"}},
         headers={"Idempotency-Key": next(key)})
    call("POST", f"{c}/transfers", json=transfer | {"amount": {"amount_cents": 900_000, "currency": "USD"}},
         headers={"Idempotency-Key": next(key)})
    call("POST", f"{c}/transfers", json={**transfer, "to_account_id": None, "payee_id": "pay_alex_1"},
         headers={"Idempotency-Key": next(key)})
    call("POST", f"{c}/transfers", json={**transfer, "to_account_id": None, "payee_id": "pay_x"},
         headers={"Idempotency-Key": next(key)})
    call("GET", f"{c}/transfers")
    call("GET", f"{c}/transfers", params={"status": "nope"})
    call("GET", f"{c}/transfers/{t['id']}")
    call("GET", f"{c}/transfers/trf_nope")
    call("GET", f"{c}/cards")
    call("GET", f"{c}/cards/card_alex_debit")
    call("GET", f"{c}/cards/card_nope")
    call("POST", f"{c}/cards/card_alex_debit/freeze")
    call("POST", f"{c}/cards/card_alex_debit/unfreeze")
    call("POST", f"{c}/cards/card_alex_old/freeze")
    call("POST", f"{c}/cards/card_alex_new/activate")
    call("POST", f"{c}/cards/card_alex_new/activate")
    call("POST", f"{c}/cards/card_alex_old/unfreeze")
    call("POST", f"{c}/cards/card_alex_old/activate")
    call("GET", f"{c}/cards/card_alex_new/delivery")
    call("POST", f"{c}/cards/card_alex_debit/report", json={"reason": "stolen"}, headers={"Idempotency-Key": "r"})
    call("POST", f"{c}/cards/card_alex_debit/report", json={"reason": "stolen"}, headers={"Idempotency-Key": "r2"})
    call("POST", f"{c}/cards/card_alex_travel/report", json={"reason": "gone"}, headers={"Idempotency-Key": "r3"})
    call("POST", f"{c}/cards/card_alex_travel/report", json={"reason": "lost"})
    card_txn = call("GET", f"{c}/transactions", params={"kind": "card", "status": "posted", "limit": 1}).json()
    d = call("POST", f"{c}/disputes", json={"transaction_id": card_txn["items"][0]["id"], "reason": "duplicate"},
             headers={"Idempotency-Key": "d"}).json()
    call("POST", f"{c}/disputes", json={"transaction_id": card_txn["items"][0]["id"], "reason": "duplicate"},
         headers={"Idempotency-Key": "d2"})
    call("POST", f"{c}/disputes", json={"transaction_id": "txn_nope", "reason": "duplicate"},
         headers={"Idempotency-Key": "d3"})
    call("POST", f"{c}/disputes", json={"transaction_id": "x", "reason": "because"}, headers={"Idempotency-Key": "d4"})
    call("POST", f"{c}/disputes", json={"transaction_id": "x", "reason": "other"})
    call("GET", f"{c}/disputes")
    call("GET", f"{c}/disputes/{d['id']}")
    call("GET", f"{c}/disputes/dsp_nope")
    otp = call("POST", f"{c}/otp", json={"purpose": "transfer"}).json()
    call("POST", f"{c}/otp", json={"purpose": "lunch"})
    code = next(m["code"] for m in client.get("/sandbox/outbox/cus_alex").json() if m["otp_id"] == otp["id"])
    call("POST", f"{c}/otp/{otp['id']}/verify", json={"code": code})
    call("POST", f"{c}/transfers", json={**transfer, "to_account_id": None, "payee_id": "pay_alex_1",
                                         "otp_id": otp["id"]}, headers={"Idempotency-Key": next(key)})
    call("POST", f"{c}/otp/otp_nope/verify", json={"code": "123456"})
    otp2 = call("POST", f"{c}/otp", json={"purpose": "contact_update", "channel": "email"}).json()
    code2 = next(m["code"] for m in client.get("/sandbox/outbox/cus_alex").json() if m["otp_id"] == otp2["id"])
    call("PATCH", f"{c}/contact", json={"phone": "+15550009999", "otp_id": otp2["id"]})
    call("POST", f"{c}/otp/{otp2['id']}/verify", json={"code": code2})
    call("PATCH", f"{c}/contact", json={"phone": "+15550009999", "otp_id": otp2["id"]})
    call("PATCH", f"{c}/contact", json={"phone": "555", "otp_id": otp2["id"]})
    otp3 = call("POST", f"{c}/otp", json={"purpose": "login"}).json()
    for _ in range(3):
        call("POST", f"{c}/otp/{otp3['id']}/verify", json={"code": "000000x"})
    call("POST", f"{c}/otp", json={"purpose": "login"})
    keypad = {"customer_number": "40034567", "conversation_id": "c-spec"}
    call("POST", "/v1/identity/keypad", json={**keypad, "pin": "9024"})
    call("POST", "/v1/identity/keypad", json={**keypad, "pin": "12"})
    for _ in range(3):
        call("POST", "/v1/identity/keypad", json={**keypad, "pin": "0000"})
    return calls


def test_the_app_serves_exactly_the_spec_operations(tmp_path):
    app = create_app(make_sandbox(tmp_path).cfg)
    generated = get_openapi(title="t", version="1", routes=app.routes)  # what the routes really are
    served = {(method.upper(), path) for path, item in generated["paths"].items() for method in item}
    assert served == spec_operations()
    assert TestClient(app).get("/openapi.json").json() == SPEC


def test_every_answer_matches_the_spec(recorded):
    problems, covered = [], set()
    for method, url, r in recorded:
        template = template_for(url)
        operation = SPEC["paths"][template][method.lower()]
        response = operation["responses"].get(str(r.status_code))
        if response is None:
            problems.append(f"{method} {url}: status {r.status_code} not in the spec ({r.text[:120]})")
            continue
        response = deref(response)
        media = r.headers["content-type"].split(";")[0]
        if media not in response.get("content", {}):
            problems.append(f"{method} {url}: {r.status_code} {media} not in the spec")
            continue
        schema = response["content"][media]["schema"]
        # The schema inside the spec document, so its "#/components/..." references resolve.
        validator = jsonschema_rs.validator_for({"components": SPEC["components"], "allOf": [schema]},
                                                validate_formats=True)
        errors = list(validator.iter_errors(r.json()))
        if errors:
            problems.append(f"{method} {url} {r.status_code}: {errors[0].message} at {list(errors[0].instance_path)}")
        if r.status_code < 300:
            covered.add((method, template))
    assert problems == []
    assert covered == spec_operations(), "operations never answered with success: " + str(spec_operations() - covered)
    codes = {r.json().get("code") for _, _, r in recorded if r.status_code >= 400}
    assert {"invalid_amount", "insufficient_funds", "unknown_payee", "not_found", "card_state", "otp_invalid",
            "otp_locked", "step_up_required", "idempotency_conflict", "idempotency_key_missing",
            "dispute_exists", "invalid_request"} <= codes

