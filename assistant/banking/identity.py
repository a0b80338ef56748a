"""Who the customer is, proven by the bank: a signed identity assertion (a JWT the bank's online
banking signs with ES256 or RS256) checked against the bank's public keys (a JWKS file).

Accepted only when all hold: a known key (by `kid`) of the algorithm the token names; the issuer
and audience configured here; not expired (small leeway) and not issued for longer than
`max_lifetime_s`; `nonce` equal to this conversation's id (an assertion made for one conversation
opens no other); and its `jti` not seen before (remembered in the database until it expires, so
every API process refuses a replay). A customer id the browser sends on its own is never trusted."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import jwt
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assistant.storage.models import UsedAssertion

ALGORITHMS = ("ES256", "RS256")  # asymmetric only: never HS256 (a public key as a shared secret) or none
MAX_TOKEN_CHARS = 8192
REQUIRED = ["iss", "aud", "sub", "exp", "iat", "jti", "nonce"]


@dataclass(frozen=True)
class VerifiedIdentity:
    customer_id: str
    conversation_id: str
    issuer: str
    expires_at: datetime


class AssertionRejected(Exception):
    """401 for the caller; `reason` is for logs and tests, never shown with the token."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"identity assertion rejected: {reason}")


class ReplayStore(Protocol):
    def remember(self, jti: str, expires_at: datetime) -> bool:
        """True the first time a jti is seen, False for a replay."""
        ...


class SqlReplayStore:
    """The assistant's own database (table identity_assertions_used), shared by all its processes."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def remember(self, jti: str, expires_at: datetime) -> bool:
        key = hashlib.sha256(jti.encode()).hexdigest()
        now = datetime.now(UTC)
        try:
            with self._sessions.begin() as s:
                s.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < now))  # expired ones can't replay
                s.add(UsedAssertion(jti_hash=key, expires_at=expires_at))
        except IntegrityError:
            return False
        return True


class JwksFile:
    """The bank's public keys from a JWKS file, reread when the file changes (key rotation)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._keys: jwt.PyJWKSet | None = None

    def keys(self) -> jwt.PyJWKSet:
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime
            except OSError as exc:
                raise AssertionRejected("no_keys") from exc
            if self._keys is None or mtime != self._mtime:
                try:
                    self._keys = jwt.PyJWKSet.from_dict(json.loads(self.path.read_text()))
                except (ValueError, jwt.PyJWKSetError) as exc:
                    raise AssertionRejected("no_keys") from exc
                self._mtime = mtime
            return self._keys


def _pick_key(keys: jwt.PyJWKSet, header: dict) -> jwt.PyJWK:
    kid = header.get("kid")
    if kid is None and len(keys.keys) == 1:
        return keys.keys[0]
    for key in keys.keys:
        if key.key_id == kid:
            return key
    raise AssertionRejected("unknown_key")


_ERRORS: list[tuple[type[Exception], str]] = [
    (jwt.ExpiredSignatureError, "expired"), (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidAudienceError, "wrong_audience"), (jwt.InvalidIssuerError, "wrong_issuer"),
    (jwt.MissingRequiredClaimError, "missing_claim"), (jwt.InvalidSignatureError, "bad_signature"),
    (jwt.InvalidTokenError, "malformed"),
]


def verify_assertion(token: str, *, keys: jwt.PyJWKSet | JwksFile | Path, issuer: str, audience: str,
                     conversation_id: str, replay_store: ReplayStore, leeway_s: int = 30,
                     max_lifetime_s: int = 900) -> VerifiedIdentity:
    """The customer this assertion proves, for this conversation; AssertionRejected otherwise."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise AssertionRejected("malformed")
    if isinstance(keys, Path):
        keys = JwksFile(keys)
    keyset = keys.keys() if isinstance(keys, JwksFile) else keys
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise AssertionRejected("malformed") from exc
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise AssertionRejected("algorithm")
    key = _pick_key(keyset, header)
    if key.algorithm_name != alg:  # the token may not choose how its own key is read
        raise AssertionRejected("algorithm")
    try:
        claims = jwt.decode(token, key.key, algorithms=[alg], audience=audience, issuer=issuer, leeway=leeway_s,
                            options={"require": REQUIRED})
    except jwt.InvalidTokenError as exc:
        raise AssertionRejected(next(r for cls, r in _ERRORS if isinstance(exc, cls))) from exc
    subject, nonce, jti = claims["sub"], claims["nonce"], claims["jti"]
    if not all(isinstance(v, str) and 0 < len(v) <= 128 for v in (subject, nonce, jti)):
        raise AssertionRejected("malformed")
    if not hmac.compare_digest(nonce.encode(), conversation_id.encode()):
        raise AssertionRejected("wrong_conversation")
    if claims["exp"] - claims["iat"] > max_lifetime_s:
        raise AssertionRejected("too_long_lived")
    expires_at = datetime.fromtimestamp(claims["exp"], UTC)
    if not replay_store.remember(f"{claims['iss']}|{jti}", expires_at):
        raise AssertionRejected("replayed")
    return VerifiedIdentity(customer_id=subject, conversation_id=conversation_id, issuer=claims["iss"],
                            expires_at=expires_at)


class IdentityVerifier:
    """verify_assertion with this deployment's keys, issuer, audience and replay store."""

    def __init__(self, *, jwks_path: Path, issuer: str, audience: str, replay_store: ReplayStore,
                 leeway_s: int = 30, max_lifetime_s: int = 900) -> None:
        self._keys = JwksFile(jwks_path)
        self.issuer, self.audience = issuer, audience
        self._replay = replay_store
        self.leeway_s, self.max_lifetime_s = leeway_s, max_lifetime_s

    def verify(self, token: str, conversation_id: str) -> VerifiedIdentity:
        return verify_assertion(token, keys=self._keys, issuer=self.issuer, audience=self.audience,
                                conversation_id=conversation_id, replay_store=self._replay,
                                leeway_s=self.leeway_s, max_lifetime_s=self.max_lifetime_s)
