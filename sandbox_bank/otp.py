"""One-time codes: sent to the customer's phone or email (the sandbox's outbox), 3 wrong tries lock
codes for the customer for `otp_lockout_s`; a verified code authorises one action of its purpose."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sandbox_bank import ledger
from sandbox_bank import models as m
from sandbox_bank import schemas as api
from sandbox_bank.config import SandboxConfig
from sandbox_bank.db import Database
from sandbox_bank.errors import BankError


def _hash(otp_id: str, code: str) -> str:
    return hashlib.sha256(f"{otp_id}:{code}".encode()).hexdigest()


def mask(destination: str) -> str:
    """'+15551234567' -> '•••4567'; 'ana@example.com' -> 'a•••@example.com'."""
    if "@" in destination:
        user, domain = destination.split("@", 1)
        return f"{user[:1]}•••@{domain}"
    return "•••" + destination[-4:]


def _lock_error(until: datetime) -> BankError:
    return BankError("otp_locked", "too many wrong codes; try again later or ask for an agent", locked_until=until.isoformat())


def _locked(customer: m.Customer, now: datetime) -> BankError | None:
    until = customer.otp_locked_until
    return _lock_error(until) if until is not None and until > now else None


def send(db: Database, cfg: SandboxConfig, customer_id: str, body: api.OtpIn) -> api.OtpChallenge:
    now = cfg.now()
    with db.transaction() as s:
        customer = ledger.lock_customer(s, customer_id)
        if err := _locked(customer, now):
            raise err
        otp_id = ledger.new_id("otp")
        code = f"{secrets.randbelow(10**6):06d}"
        destination = customer.phone if body.channel == "sms" else customer.email
        challenge = m.OtpChallenge(id=otp_id, customer_id=customer_id, purpose=body.purpose, channel=body.channel,
                                   code_hash=_hash(otp_id, code), created_at=now,
                                   expires_at=now + timedelta(seconds=cfg.otp_ttl_s), attempts=0)
        s.add(challenge)
        s.add(m.OutboxMessage(customer_id=customer_id, otp_id=otp_id, channel=body.channel, destination=destination,
                              code=code, created_at=now,
                              body=f"Your Larkspur Bank code is {code}. It expires in {cfg.otp_ttl_s // 60} minutes. "
                                   "We will never ask you for it."))
        return api.OtpChallenge(id=otp_id, purpose=body.purpose, channel=body.channel, destination=mask(destination),
                                expires_at=challenge.expires_at, attempts_left=cfg.otp_max_attempts)


def verify(db: Database, cfg: SandboxConfig, customer_id: str, otp_id: str, code: str) -> api.OtpVerification:
    """A wrong code is counted (committed) before the refusal is raised."""
    now = cfg.now()
    error: BankError | None = None
    with db.transaction() as s:
        customer = ledger.lock_customer(s, customer_id)
        challenge = s.get(m.OtpChallenge, otp_id)
        if challenge is None or challenge.customer_id != customer_id:
            raise BankError("not_found", f"no one-time code {otp_id}")
        valid_until = (challenge.verified_at or now) + timedelta(seconds=cfg.step_up_valid_s)
        right = hmac.compare_digest(_hash(otp_id, code.strip()), challenge.code_hash)
        if challenge.verified_at is not None and right:
            return api.OtpVerification(id=otp_id, purpose=challenge.purpose, verified=True, valid_until=valid_until)
        if err := _locked(customer, now):
            raise err
        if challenge.verified_at is not None or challenge.consumed_at is not None or now >= challenge.expires_at:
            raise BankError("otp_expired", "this code has expired or was used; ask for a new one")
        if right:
            challenge.verified_at = now
            return api.OtpVerification(id=otp_id, purpose=challenge.purpose, verified=True, valid_until=valid_until)
        challenge.attempts += 1
        left = cfg.otp_max_attempts - challenge.attempts
        if left <= 0:
            customer.otp_locked_until = until = now + timedelta(seconds=cfg.otp_lockout_s)
            challenge.expires_at = now
            error = _lock_error(until)
        else:
            error = BankError("otp_invalid", f"that code is not right; {left} tries left", attempts_left=left)
    raise error


def consume_step_up(s: Session, cfg: SandboxConfig, customer_id: str, otp_id: str | None, purpose: str) -> None:
    """Inside the action's transaction: the action and the use of its code commit together."""
    if otp_id is None:
        raise BankError("step_up_required", f"send and verify a one-time code with purpose '{purpose}' first")
    challenge = s.get(m.OtpChallenge, otp_id)
    now = cfg.now()
    fresh = (challenge is not None and challenge.customer_id == customer_id and challenge.purpose == purpose
             and challenge.verified_at is not None and challenge.consumed_at is None
             and now - challenge.verified_at <= timedelta(seconds=cfg.step_up_valid_s))
    if not fresh or challenge is None:
        raise BankError("step_up_required", "the one-time code is not verified, was used already, or is too old")
    challenge.consumed_at = now


def update_contact(db: Database, cfg: SandboxConfig, customer_id: str, body: api.ContactIn) -> api.Customer:
    if body.email is None and body.phone is None:
        raise BankError("invalid_request", "give a new email or phone")
    with db.transaction() as s:
        customer = ledger.lock_customer(s, customer_id)
        consume_step_up(s, cfg, customer_id, body.otp_id, "contact_update")
        if body.email is not None:
            customer.email = body.email
        if body.phone is not None:
            customer.phone = body.phone
        return api.Customer(id=customer.id, name=customer.name, email=customer.email, phone=customer.phone)
