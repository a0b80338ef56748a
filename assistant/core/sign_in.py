"""Keypad sign-in for channels without the bank's web login (the phone line, branch robots).

The caller types a customer number and a phone PIN; the bank checks them and signs an identity
assertion for this conversation (POST /v1/identity/keypad, docs/banking-api.yaml); the assistant
checks that assertion exactly as it checks the web's, and the flow that waited for the sign-in
carries on. The number and PIN go only to the bank: never to storage, logs, the pipeline or audit.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from assistant.banking.errors import BackendUnavailable, BankingError
from assistant.banking.identity import AssertionRejected
from assistant.core.events import Reply, RouteInfo
from assistant.i18n import t
from assistant.storage.repository import AuditEntry

if TYPE_CHECKING:
    from assistant.banking.backend import BankingBackend
    from assistant.banking.identity import IdentityVerifier
    from assistant.core.pipeline import DialoguePipeline

log = logging.getLogger(__name__)

SIGNED_IN = t("sign_in.signed_in")
REJECTED = t("sign_in.rejected")
LOCKED = t("sign_in.locked")
UNAVAILABLE = t("sign_in.unavailable")


@dataclass(frozen=True, slots=True)
class SignInResult:
    status: Literal["signed_in", "rejected", "locked", "unavailable"]
    text: str  # what to tell the customer
    reply: Reply | None = None  # signed_in: the stored reply (the waiting flow's next step)
    attempts_left: int | None = None


class KeypadSignIn:
    def __init__(self, *, bank: BankingBackend, verifier: IdentityVerifier, pipeline: DialoguePipeline) -> None:
        self.bank, self.verifier, self.pipeline = bank, verifier, pipeline

    async def sign_in(self, cid: str, customer_number: str, pin: str, channel: str) -> SignInResult:
        try:
            got = await self.bank.keypad_sign_in(customer_number=customer_number, pin=pin, conversation_id=cid)
            verified = await asyncio.to_thread(self.verifier.verify, got.assertion, cid)
        except BankingError as exc:
            if exc.code == "keypad_locked":
                return await self._refused(cid, channel, "locked", LOCKED)
            if exc.code in ("keypad_rejected", "invalid_request"):
                left = exc.attempts_left
                tail = f" You have {left} more {'try' if left == 1 else 'tries'}." if left else ""
                return await self._refused(cid, channel, "rejected", REJECTED + tail, left)
            log.warning("keypad sign-in: bank refused with %s", exc.code)
            return await self._refused(cid, channel, "unavailable", UNAVAILABLE)
        except (BackendUnavailable, AssertionRejected) as exc:
            log.warning("keypad sign-in failed: %s", type(exc).__name__)
            return await self._refused(cid, channel, "unavailable", UNAVAILABLE)
        return SignInResult("signed_in", SIGNED_IN, await self._signed_in(cid, verified.customer_id, channel))

    async def _signed_in(self, cid: str, customer_id: str, channel: str) -> Reply:
        """Record the identity (the waiting flow starts) and store the reply with its audit record."""
        p = self.pipeline
        assert p.selfservice is not None
        text = await p.selfservice.verified(cid, customer_id, "keypad") or SIGNED_IN
        _, flow = await p.selfservice.current(cid)
        reply = Reply(cid, text, path="flow", route=RouteInfo("verified", "identity proven by keypad"),
                      customer_id=customer_id, flow=flow)
        await p.repo.add_async(cid, role="system", text="Customer signed in with the keypad.", channel=channel,
                               path="sign_in")
        audit = AuditEntry(p.audit, "sign_in", {"channel": channel, "method": "keypad", "outcome": "signed_in",
                                                "customer_id": customer_id, "reply": text}) if p.audit else None
        mid = await p.repo.add_async(cid, role="assistant", text=text, channel=channel, path="flow", audit=audit)
        return replace(reply, message_id=mid)

    async def _refused(self, cid: str, channel: str, status, text: str, left: int | None = None) -> SignInResult:
        p = self.pipeline
        audit = AuditEntry(p.audit, "sign_in", {"channel": channel, "method": "keypad", "outcome": status}) \
            if p.audit else None
        await p.repo.add_async(cid, role="system", text=f"Keypad sign-in {status}.", channel=channel, path="sign_in",
                               audit=audit)
        return SignInResult(status, text, attempts_left=left)
