"""Keypad sign-in: a caller or a branch-robot customer types a customer number and a phone PIN; the
bank checks them and, when right, signs an identity assertion for the conversation (the same JWT its
logged-in pages issue). Three wrong PINs lock keypad sign-in for the customer for `pin_lockout_s`.
An unknown customer number gets the same refusal as a wrong PIN."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select

from sandbox_bank import identity
from sandbox_bank import models as m
from sandbox_bank import schemas as api
from sandbox_bank.config import SandboxConfig
from sandbox_bank.db import Database
from sandbox_bank.errors import BankError


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """'scrypt$<salt hex>$<hash hex>' (stdlib scrypt; a PIN is short, so the work factor matters)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _pin_matches(stored: str, pin: str) -> bool:
    _, salt, _digest = stored.split("$")
    return hmac.compare_digest(hash_pin(pin, bytes.fromhex(salt)), stored)


_DUMMY = hash_pin("0000")  # an unknown number costs the same work as a known one


def sign_in(db: Database, cfg: SandboxConfig, body: api.KeypadSignInIn) -> api.KeypadSignIn:
    """A wrong PIN is counted (committed) before the refusal is raised."""
    now = cfg.now()
    error: BankError | None = None
    with db.transaction() as s:
        customer = s.scalar(select(m.Customer).where(m.Customer.customer_number == body.customer_number)
                            .with_for_update())
        if customer is None or customer.pin_hash is None:
            _pin_matches(_DUMMY, body.pin)
            raise BankError("keypad_rejected", "the customer number or PIN is wrong")
        if customer.pin_locked_until is not None and customer.pin_locked_until > now:
            raise BankError("keypad_locked", "too many wrong PINs; keypad sign-in is locked for a while",
                            locked_until=customer.pin_locked_until.isoformat())
        if _pin_matches(customer.pin_hash, body.pin):
            customer.pin_failures = 0
            assertion = identity.issue_assertion(cfg, customer.id, body.conversation_id)
            return api.KeypadSignIn(customer_id=customer.id, assertion=assertion)
        customer.pin_failures = (customer.pin_failures or 0) + 1
        left = cfg.otp_max_attempts - customer.pin_failures
        if left <= 0:
            customer.pin_failures = 0
            customer.pin_locked_until = now + timedelta(seconds=cfg.otp_lockout_s)
            error = BankError("keypad_locked", "too many wrong PINs; keypad sign-in is locked for a while",
                              locked_until=customer.pin_locked_until.isoformat())
        else:
            error = BankError("keypad_rejected", "the customer number or PIN is wrong", attempts_left=left)
    raise error
