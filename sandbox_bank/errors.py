"""Domain errors: each becomes an RFC 9457 problem JSON with a stable `code` (docs/banking-api.yaml)."""

from __future__ import annotations

from typing import Any

# code -> (HTTP status, title)
CODES: dict[str, tuple[int, str]] = {
    "invalid_request": (422, "The request is not valid"),
    "invalid_amount": (422, "The amount must be a positive whole number of cents"),
    "currency_mismatch": (422, "The currency does not match the account"),
    "same_account": (422, "The source and destination accounts are the same"),
    "insufficient_funds": (422, "Not enough money in the account"),
    "limit_exceeded": (422, "The amount is over a limit"),
    "unknown_payee": (404, "No such saved payee"),
    "not_found": (404, "Not found"),
    "card_state": (409, "The card cannot do that in its current state"),
    "not_disputable": (409, "This transaction cannot be disputed"),
    "dispute_exists": (409, "A dispute is already open for this transaction"),
    "step_up_required": (403, "A verified one-time code is needed for this action"),
    "otp_invalid": (422, "The one-time code is wrong"),
    "otp_expired": (422, "The one-time code has expired"),
    "otp_locked": (423, "Too many wrong codes: one-time codes are locked for a while"),
    "keypad_rejected": (401, "The customer number or PIN is wrong"),
    "keypad_locked": (423, "Too many wrong PINs: keypad sign-in is locked for a while"),
    "idempotency_conflict": (409, "This Idempotency-Key was used for a different request"),
    "conflict": (409, "A concurrent request changed the same thing"),
    "idempotency_key_missing": (400, "The Idempotency-Key header is required"),
    "unauthorized": (401, "Missing or wrong API token"),
}


class BankError(Exception):
    def __init__(self, code: str, detail: str | None = None, **extras: Any) -> None:
        self.code = code
        self.status, self.title = CODES[code]
        self.detail = detail or self.title
        self.extras = extras
        super().__init__(f"{code}: {self.detail}")

    def problem(self) -> dict[str, Any]:
        return {"type": f"https://bankassist.dev/problems/{self.code}", "title": self.title, "status": self.status,
                "code": self.code, "detail": self.detail, **self.extras}
