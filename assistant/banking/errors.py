"""Failures of the banking backend, typed so the dialogue can say them plainly:
- BackendUnavailable: the bank did not answer (down, timed out, circuit open). Nothing is known to
  have happened; a retry with the same idempotency key settles a money movement.
- BankingError: the bank answered and refused, with a stable `code` from docs/banking-api.yaml
  (insufficient_funds, limit_exceeded, unknown_payee, card_state, otp_invalid, otp_locked, ...)."""

from __future__ import annotations

from typing import Any


class BankingFailure(Exception):
    """Any failure of a banking call."""


class BackendUnavailable(BankingFailure):
    def __init__(self, reason: str, *, operation: str = "") -> None:
        self.reason = reason  # "circuit_open" | "timeout" | "unreachable" | "server_error"
        self.operation = operation
        super().__init__(f"banking backend unavailable ({reason}){f' during {operation}' if operation else ''}")


class BankingError(BankingFailure):
    def __init__(self, code: str, detail: str = "", *, status: int = 0, extras: dict[str, Any] | None = None) -> None:
        self.code = code
        self.detail = detail
        self.status = status
        self.extras = extras or {}
        super().__init__(f"{code}: {detail}" if detail else code)

    @property
    def attempts_left(self) -> int | None:
        return self.extras.get("attempts_left")

    @property
    def available_cents(self) -> int | None:
        return self.extras.get("available_cents")
