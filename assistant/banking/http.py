"""HttpBankingBackend: the BankingBackend over a bank's REST API (docs/banking-api.yaml).

- Timeouts on connect and on the whole answer.
- Retries on transient failures (connection refused, timeout, 502/503/504) with backoff. A call that
  changes something is retried only when that is safe: with its idempotency key (the bank runs it
  once), or when the request never left (connect error). One-time codes and contact changes are
  therefore retried on connect errors only (a retried wrong code would count twice).
- A circuit breaker: a bank that keeps failing is not waited on; calls fail fast until it recovers.
- Nothing about the customer is logged: operation names, status codes and timings only."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from assistant.banking import types as t
from assistant.banking.breaker import CircuitBreaker
from assistant.banking.errors import BackendUnavailable, BankingError

log = logging.getLogger(__name__)
TRANSIENT_STATUS = (502, 503, 504)
Retry = Literal["always", "connect"]


class HttpBankingBackend:
    def __init__(self, base_url: str, *, api_token: str | None = None, timeout_s: float = 5.0,
                 connect_timeout_s: float = 2.0, retries: int = 2, backoff_s: float = 0.2,
                 breaker: CircuitBreaker | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_token}"} if api_token else {}
        self._timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)
        self.retries = retries
        self.backoff_s = backoff_s
        self.breaker = breaker or CircuitBreaker()
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:  # a pool belongs to one event loop
            self._client = httpx.AsyncClient(base_url=self.base_url, timeout=self._timeout, headers=self._headers,
                                             transport=self._transport)
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _call(self, method: str, path: str, operation: str, *, json: Any = None,
                    params: dict[str, Any] | None = None, idempotency_key: str | None = None,
                    retry: Retry = "always") -> Any:
        if not self.breaker.allow():
            raise BackendUnavailable("circuit_open", operation=operation)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        reason = "unreachable"
        verdict = False
        try:
            for attempt in range(self.retries + 1):
                if attempt:
                    await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
                t0 = time.perf_counter()
                try:
                    resp = await self._http().request(method, path, json=json, params=params, headers=headers)
                except httpx.ConnectError:
                    reason = "unreachable"  # the request never left: any call may be retried
                    continue
                except httpx.TimeoutException as exc:
                    reason = "timeout"
                    if retry == "connect" and not isinstance(exc, httpx.ConnectTimeout):
                        break
                    continue
                except httpx.TransportError:
                    reason = "unreachable"
                    if retry == "connect":
                        break
                    continue
                log.info("bank %s -> %s in %.0f ms", operation, resp.status_code, (time.perf_counter() - t0) * 1000)
                if resp.status_code in TRANSIENT_STATUS or resp.status_code >= 500:
                    reason = "server_error"
                    if retry == "connect" or resp.status_code not in TRANSIENT_STATUS:
                        break
                    continue
                verdict = True
                self.breaker.record_success()  # the bank answered, even if it refused
                return _body(resp, operation)
            verdict = True
            self.breaker.record_failure()
            raise BackendUnavailable(reason, operation=operation)
        finally:
            if not verdict:
                self.breaker.release()

    # --- reads
    async def customer(self, customer_id: str) -> t.Customer:
        return _one(t.Customer, await self._call("GET", _c(customer_id), "customer"))

    async def accounts(self, customer_id: str) -> list[t.Account]:
        return _list(t.Account, await self._call("GET", _c(customer_id, "accounts"), "accounts"))

    async def account(self, customer_id: str, account_id: str) -> t.Account:
        return _one(t.Account, await self._call("GET", _c(customer_id, "accounts", account_id), "account"))

    async def transactions(self, customer_id: str, query: t.TransactionQuery | None = None) -> t.TransactionPage:
        params = (query or t.TransactionQuery()).model_dump(mode="json", exclude_none=True)
        return _one(t.TransactionPage,
            await self._call("GET", _c(customer_id, "transactions"), "transactions", params=params))

    async def transaction(self, customer_id: str, transaction_id: str) -> t.Transaction:
        return _one(t.Transaction,
            await self._call("GET", _c(customer_id, "transactions", transaction_id), "transaction"))

    async def payees(self, customer_id: str) -> list[t.Payee]:
        return _list(t.Payee, await self._call("GET", _c(customer_id, "payees"), "payees"))

    async def transfers(self, customer_id: str, status: str | None = None) -> list[t.Transfer]:
        params = {"status": status} if status else None
        return _list(t.Transfer, await self._call("GET", _c(customer_id, "transfers"), "transfers", params=params))

    async def transfer_status(self, customer_id: str, transfer_id: str) -> t.Transfer:
        return _one(t.Transfer,
            await self._call("GET", _c(customer_id, "transfers", transfer_id), "transfer_status"))

    async def cards(self, customer_id: str) -> list[t.Card]:
        return _list(t.Card, await self._call("GET", _c(customer_id, "cards"), "cards"))

    async def card(self, customer_id: str, card_id: str) -> t.Card:
        return _one(t.Card, await self._call("GET", _c(customer_id, "cards", card_id), "card"))

    async def card_delivery(self, customer_id: str, card_id: str) -> t.Delivery:
        return _one(t.Delivery,
            await self._call("GET", _c(customer_id, "cards", card_id, "delivery"), "card_delivery"))

    async def disputes(self, customer_id: str) -> list[t.Dispute]:
        return _list(t.Dispute, await self._call("GET", _c(customer_id, "disputes"), "disputes"))

    # --- actions
    async def transfer(self, customer_id: str, *, from_account_id: str, amount: t.Money, idempotency_key: str,
                       to_account_id: str | None = None, payee_id: str | None = None, memo: str | None = None,
                       otp_id: str | None = None) -> t.Transfer:
        body = {"from_account_id": from_account_id, "to_account_id": to_account_id, "payee_id": payee_id,
                "amount": amount.model_dump(), "memo": memo, "otp_id": otp_id}
        return _one(t.Transfer, await self._call(
            "POST", _c(customer_id, "transfers"), "transfer", json=body, idempotency_key=_key(idempotency_key)))

    async def freeze_card(self, customer_id: str, card_id: str) -> t.Card:
        return _one(t.Card, await self._call("POST", _c(customer_id, "cards", card_id, "freeze"), "freeze_card"))

    async def unfreeze_card(self, customer_id: str, card_id: str) -> t.Card:
        return _one(t.Card,
            await self._call("POST", _c(customer_id, "cards", card_id, "unfreeze"), "unfreeze_card"))

    async def activate_card(self, customer_id: str, card_id: str) -> t.Card:
        return _one(t.Card,
            await self._call("POST", _c(customer_id, "cards", card_id, "activate"), "activate_card"))

    async def report_card(self, customer_id: str, card_id: str, *, reason: Literal["lost", "stolen"],
                          idempotency_key: str, order_replacement: bool = True) -> t.CardReport:
        return _one(t.CardReport, await self._call(
            "POST", _c(customer_id, "cards", card_id, "report"), "report_card",
            json={"reason": reason, "order_replacement": order_replacement}, idempotency_key=_key(idempotency_key)))

    async def open_dispute(self, customer_id: str, *, transaction_id: str, reason: str, idempotency_key: str,
                           description: str | None = None) -> t.Dispute:
        return _one(t.Dispute, await self._call(
            "POST", _c(customer_id, "disputes"), "open_dispute",
            json={"transaction_id": transaction_id, "reason": reason, "description": description},
            idempotency_key=_key(idempotency_key)))

    async def send_otp(self, customer_id: str, *, purpose: t.OtpPurpose,
                       channel: Literal["sms", "email"] = "sms") -> t.OtpChallenge:
        return _one(t.OtpChallenge, await self._call(
            "POST", _c(customer_id, "otp"), "send_otp", json={"purpose": purpose, "channel": channel}, retry="connect"))

    async def verify_otp(self, customer_id: str, otp_id: str, code: str) -> t.OtpVerification:
        return _one(t.OtpVerification, await self._call(
            "POST", _c(customer_id, "otp", otp_id, "verify"), "verify_otp", json={"code": code}, retry="connect"))

    async def update_contact(self, customer_id: str, *, otp_id: str, email: str | None = None,
                             phone: str | None = None) -> t.Customer:
        body = {"otp_id": otp_id, **({"email": email} if email else {}), **({"phone": phone} if phone else {})}
        return _one(t.Customer, await self._call(
            "PATCH", _c(customer_id, "contact"), "update_contact", json=body, retry="connect"))

    async def keypad_sign_in(self, *, customer_number: str, pin: str, conversation_id: str) -> t.KeypadSignIn:
        body = {"customer_number": customer_number, "pin": pin, "conversation_id": conversation_id}
        return _one(t.KeypadSignIn, await self._call("POST", "/v1/identity/keypad", "keypad_sign_in", json=body,
                                                     retry="connect"))


def _seg(value: str) -> str:
    """One path segment: ids never carry '/', '?' or '..' into the bank's URL."""
    if not value or value in (".", ".."):
        raise BankingError("not_found", "empty or relative id")
    return quote(value, safe="")


def _c(customer_id: str, *parts: str) -> str:
    return "/v1/customers/" + "/".join(_seg(p) for p in (customer_id, *parts))


def _key(key: str) -> str:
    if not key or len(key) > 128:
        raise ValueError("an idempotency key of 1-128 characters is required")
    return key


def _one(model: Any, data: Any) -> Any:
    try:
        return TypeAdapter(model).validate_python(data)
    except ValidationError as exc:  # the bank answered something that is not the contract
        raise BackendUnavailable("bad_response") from exc


def _list(model: Any, data: Any) -> list:
    return _one(list[model], data)


def _body(resp: httpx.Response, operation: str) -> Any:
    try:
        data = resp.json()
    except ValueError:
        data = None
    if resp.status_code >= 400:
        problem = data if isinstance(data, dict) else {}
        code = problem.get("code") or ("not_found" if resp.status_code == 404 else "invalid_request")
        extras = {k: v for k, v in problem.items() if k not in ("type", "title", "status", "code", "detail")}
        raise BankingError(str(code), str(problem.get("detail", "")), status=resp.status_code, extras=extras)
    if data is None:
        raise BackendUnavailable("bad_response", operation=operation)
    return data
