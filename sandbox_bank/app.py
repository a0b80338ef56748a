"""The sandbox bank's ASGI app: docs/banking-api.yaml under /v1, plus sandbox-only helpers (JWKS,
outbox, assertions) outside /v1. Routes are thin; the rules live in ledger/transfers/cards/otp."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import yaml
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox_bank import cards, idempotency, identity, keypad, models, otp, seed, transfers, views
from sandbox_bank import schemas as api
from sandbox_bank.config import SandboxConfig
from sandbox_bank.db import Database
from sandbox_bank.errors import BankError

SPEC = Path(__file__).resolve().parent.parent / "docs" / "banking-api.yaml"
PROBLEM = "application/problem+json"


@dataclass
class Bank:
    db: Database
    cfg: SandboxConfig


def _bank(request: Request) -> Bank:
    return request.app.state.bank


BankDep = Annotated[Bank, Depends(_bank)]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key")]


def _authorize(request: Request, bank: BankDep) -> None:
    token = bank.cfg.api_token
    if token and not secrets.compare_digest(request.headers.get("authorization", ""), f"Bearer {token}"):
        raise BankError("unauthorized")


def _problem(err: BankError) -> JSONResponse:
    return JSONResponse(err.problem(), status_code=err.status, media_type=PROBLEM)


def _outcome(out: idempotency.Outcome) -> JSONResponse:
    return JSONResponse(out.body, status_code=out.status, media_type=PROBLEM if out.status >= 400 else None,
                        headers={"Idempotent-Replayed": "true" if out.replayed else "false"})


v1 = APIRouter(prefix="/v1", dependencies=[Depends(_authorize)])


@v1.get("/health")
def health() -> api.Health:
    return api.Health(status="ok")


@v1.get("/customers/{customer_id}")
def get_customer(customer_id: str, bank: BankDep) -> api.Customer:
    with bank.db.transaction() as s:
        return views.customer_body(views.customer(s, customer_id))


@v1.patch("/customers/{customer_id}/contact")
def update_contact(customer_id: str, body: api.ContactIn, bank: BankDep) -> api.Customer:
    return otp.update_contact(bank.db, bank.cfg, customer_id, body)


@v1.get("/customers/{customer_id}/accounts")
def list_accounts(customer_id: str, bank: BankDep) -> list[api.Account]:
    with bank.db.transaction() as s:
        return views.accounts(s, customer_id)


@v1.get("/customers/{customer_id}/accounts/{account_id}")
def get_account(customer_id: str, account_id: str, bank: BankDep) -> api.Account:
    with bank.db.transaction() as s:
        views.customer(s, customer_id)
        return views.account_body(s, views.ledger.customer_account(s, customer_id, account_id))


class TxnQuery(BaseModel):
    account_id: str | None = Field(default=None, max_length=32)
    merchant: str | None = Field(default=None, max_length=80)
    from_date: date | None = None
    to_date: date | None = None
    min_amount_cents: int | None = Field(default=None, ge=0, le=api.MAX_CENTS)
    max_amount_cents: int | None = Field(default=None, ge=0, le=api.MAX_CENTS)
    status: Literal["posted", "pending", "declined", "failed", "reversed"] | None = None
    kind: Literal["card", "transfer", "payment", "deposit", "interest", "fee"] | None = None
    direction: Literal["debit", "credit"] | None = None
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=12)


@v1.get("/customers/{customer_id}/transactions")
def search_transactions(customer_id: str, q: Annotated[TxnQuery, Query()], bank: BankDep) -> api.TransactionPage:
    with bank.db.transaction() as s:
        return views.search_transactions(s, customer_id, **q.model_dump())


@v1.get("/customers/{customer_id}/transactions/{transaction_id}")
def get_transaction(customer_id: str, transaction_id: str, bank: BankDep) -> api.Transaction:
    with bank.db.transaction() as s:
        return views.txn_body(views.transaction(s, customer_id, transaction_id))


@v1.get("/customers/{customer_id}/payees")
def list_payees(customer_id: str, bank: BankDep) -> list[api.Payee]:
    with bank.db.transaction() as s:
        return views.payees(s, customer_id)


@v1.post("/customers/{customer_id}/transfers", status_code=201, response_model=api.Transfer)
def create_transfer(customer_id: str, body: api.TransferIn, bank: BankDep, key: IdemKey = None) -> JSONResponse:
    transfers.validate(body)
    digest = idempotency.request_hash("transfer", body.model_dump())
    return _outcome(idempotency.run(bank.db, bank.cfg, customer_id, key, digest, lambda s: (
        201, transfers.execute(s, bank.cfg, customer_id, body).model_dump(mode="json"))))


@v1.get("/customers/{customer_id}/transfers")
def list_transfers(customer_id: str, bank: BankDep,
                   status: Literal["completed", "pending", "failed", "returned"] | None = None) -> list[api.Transfer]:
    with bank.db.transaction() as s:
        return views.transfers(s, customer_id, bank.cfg.now().date(), status)


@v1.get("/customers/{customer_id}/transfers/{transfer_id}")
def get_transfer(customer_id: str, transfer_id: str, bank: BankDep) -> api.Transfer:
    with bank.db.transaction() as s:
        return views.transfer_body(views.transfer(s, customer_id, transfer_id), bank.cfg.now().date())


@v1.get("/customers/{customer_id}/cards")
def list_cards(customer_id: str, bank: BankDep) -> list[api.Card]:
    with bank.db.transaction() as s:
        return views.cards(s, customer_id)


@v1.get("/customers/{customer_id}/cards/{card_id}")
def get_card(customer_id: str, card_id: str, bank: BankDep) -> api.Card:
    with bank.db.transaction() as s:
        return views.card_body(views.card(s, customer_id, card_id))


@v1.post("/customers/{customer_id}/cards/{card_id}/freeze")
def freeze_card(customer_id: str, card_id: str, bank: BankDep) -> api.Card:
    return cards.freeze(bank.db, bank.cfg, customer_id, card_id, frozen=True)


@v1.post("/customers/{customer_id}/cards/{card_id}/unfreeze")
def unfreeze_card(customer_id: str, card_id: str, bank: BankDep) -> api.Card:
    return cards.freeze(bank.db, bank.cfg, customer_id, card_id, frozen=False)


@v1.post("/customers/{customer_id}/cards/{card_id}/activate")
def activate_card(customer_id: str, card_id: str, bank: BankDep) -> api.Card:
    return cards.activate(bank.db, bank.cfg, customer_id, card_id)


@v1.post("/customers/{customer_id}/cards/{card_id}/report", status_code=201, response_model=api.CardReport)
def report_card(customer_id: str, card_id: str, body: api.CardReportIn, bank: BankDep,
                key: IdemKey = None) -> JSONResponse:
    digest = idempotency.request_hash(f"report:{card_id}", body.model_dump())
    return _outcome(idempotency.run(bank.db, bank.cfg, customer_id, key, digest, lambda s: (
        201, cards.report(s, bank.cfg, customer_id, card_id, body).model_dump(mode="json"))))


@v1.get("/customers/{customer_id}/cards/{card_id}/delivery")
def card_delivery(customer_id: str, card_id: str, bank: BankDep) -> api.Delivery:
    return cards.delivery(bank.db, bank.cfg, customer_id, card_id)


@v1.get("/customers/{customer_id}/disputes")
def list_disputes(customer_id: str, bank: BankDep) -> list[api.Dispute]:
    with bank.db.transaction() as s:
        return views.disputes(s, customer_id)


@v1.post("/customers/{customer_id}/disputes", status_code=201, response_model=api.Dispute)
def create_dispute(customer_id: str, body: api.DisputeIn, bank: BankDep, key: IdemKey = None) -> JSONResponse:
    digest = idempotency.request_hash("dispute", body.model_dump())
    return _outcome(idempotency.run(bank.db, bank.cfg, customer_id, key, digest, lambda s: (
        201, cards.open_dispute(s, bank.cfg, customer_id, body).model_dump(mode="json"))))


@v1.get("/customers/{customer_id}/disputes/{dispute_id}")
def get_dispute(customer_id: str, dispute_id: str, bank: BankDep) -> api.Dispute:
    with bank.db.transaction() as s:
        return views.dispute_body(views.dispute(s, customer_id, dispute_id))


@v1.post("/customers/{customer_id}/otp", status_code=201)
def send_otp(customer_id: str, body: api.OtpIn, bank: BankDep) -> api.OtpChallenge:
    return otp.send(bank.db, bank.cfg, customer_id, body)


@v1.post("/customers/{customer_id}/otp/{otp_id}/verify")
def verify_otp(customer_id: str, otp_id: str, body: api.OtpVerifyIn, bank: BankDep) -> api.OtpVerification:
    return otp.verify(bank.db, bank.cfg, customer_id, otp_id, body.code)


@v1.post("/identity/keypad")
def keypad_sign_in(body: api.KeypadSignInIn, bank: BankDep) -> api.KeypadSignIn:
    return keypad.sign_in(bank.db, bank.cfg, body)


sandbox = APIRouter(include_in_schema=False)  # test helpers a real bank does not have


class AssertionIn(BaseModel):
    customer_id: str = Field(max_length=32)
    conversation_id: str = Field(min_length=1, max_length=64)


@sandbox.get("/.well-known/jwks.json")
def jwks(bank: BankDep) -> dict:
    return identity.jwks(identity.signing_key(bank.cfg))


@sandbox.get("/sandbox/outbox/{customer_id}", dependencies=[Depends(_authorize)])
def outbox(customer_id: str, bank: BankDep) -> list[dict]:
    from sandbox_bank import admin

    with bank.db.transaction() as s:
        return admin.outbox(s, customer_id)


@sandbox.post("/sandbox/reset", status_code=204, dependencies=[Depends(_authorize)])
def reset_bank(bank: BankDep) -> None:
    """Drop everything and seed the demo customers again (`bankassist sandbox reset` for a running bank)."""
    seed.reset(bank.db, bank.cfg)


@sandbox.post("/sandbox/assertions", dependencies=[Depends(_authorize)])
def assertion(body: AssertionIn, bank: BankDep) -> dict:
    """What the bank's logged-in page would give the widget (the sandbox is dev-only by nature)."""
    with bank.db.transaction() as s:
        views.customer(s, body.customer_id)
    return {"assertion": identity.issue_assertion(bank.cfg, body.customer_id, body.conversation_id)}


def create_app(cfg: SandboxConfig, *, db: Database | None = None, reset: bool = False) -> FastAPI:
    """The app over `cfg`'s database; seeded when empty (or when `reset`)."""
    db = db or Database(cfg.sqlalchemy_url)
    if reset:
        seed.reset(db, cfg)
    else:
        ensure_seeded(db, cfg)
    identity.signing_key(cfg)  # the JWKS file exists before the assistant looks for it
    app = FastAPI(title="Sandbox core bank", version="1.0.0", docs_url="/docs", redoc_url=None)
    app.state.bank = Bank(db, cfg)
    app.include_router(v1)
    app.include_router(sandbox)
    if SPEC.exists():  # the published contract is what /openapi.json serves
        spec = yaml.safe_load(SPEC.read_text())
        app.openapi = lambda: spec  # type: ignore[method-assign]  # FastAPI's documented way to serve a fixed schema

    @app.exception_handler(BankError)
    async def _bank_error(_request: Request, err: BankError) -> JSONResponse:
        return _problem(err)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Say which field is wrong, never echo the value (it may be a code or an account number).
        errors = [{"field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]), "message": e["msg"]}
                  for e in exc.errors()]
        code = "invalid_amount" if any("amount_cents" in e["field"] for e in errors) else "invalid_request"
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return _problem(BankError(code, detail, errors=errors[:20]))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body that is not JSON: the spec's invalid_request (422), like a wrong field
            return _problem(BankError("invalid_request", "the request body must be UTF-8 encoded JSON"))
        code = "not_found" if exc.status_code == 404 else "invalid_request"
        body = BankError(code, str(exc.detail)).problem() | {"status": exc.status_code}
        return JSONResponse(body, status_code=exc.status_code, media_type=PROBLEM)

    return app


def ensure_seeded(db: Database, cfg: SandboxConfig) -> None:
    from sqlalchemy import inspect

    have = inspect(db.engine)
    if not have.has_table("customers") or not {c.name for c in models.Customer.__table__.columns} <= {
            c["name"] for c in have.get_columns("customers")}:
        seed.reset(db, cfg)  # empty, or made by an older sandbox: the sandbox has no migrations, it reseeds
