"""The sandbox plays the bank's online-banking site: it signs identity assertions (ES256 JWTs) with a
dev key made on first use in its data dir, and publishes the public half as a JWKS file."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sandbox_bank.config import SandboxConfig

ALGORITHM = "ES256"


def signing_key(cfg: SandboxConfig) -> ec.EllipticCurvePrivateKey:
    """The dev key (PEM, mode 600), made on first use; the JWKS file always matches it. Two processes
    starting at once agree on one key: the first to link its file into place wins."""
    path = cfg.signing_key_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        tmp = path.with_suffix(f".{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        try:
            os.link(tmp, path)  # atomic, and refuses to replace a key another process made first
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} is not an EC private key (the sandbox signs ES256)")
    published = json.dumps(jwks(key), indent=2)
    if not cfg.jwks_path.exists() or cfg.jwks_path.read_text() != published:
        tmp = cfg.jwks_path.with_suffix(f".{os.getpid()}.{secrets.token_hex(4)}.tmp")
        tmp.write_text(published)
        os.replace(tmp, cfg.jwks_path)
    return key


def key_id(key: ec.EllipticCurvePrivateKey) -> str:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def jwks(key: ec.EllipticCurvePrivateKey) -> dict:
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**jwk, "kid": key_id(key), "use": "sig", "alg": ALGORITHM}]}


def issue_assertion(cfg: SandboxConfig, customer_id: str, conversation_id: str, *, ttl_s: int | None = None) -> str:
    """What the bank's logged-in page hands the widget: who the customer is, for this conversation only
    (nonce = the conversation id), once (jti), for a few minutes (exp)."""
    key = signing_key(cfg)
    now = cfg.now()
    claims = {"iss": cfg.issuer, "aud": cfg.audience, "sub": customer_id, "nonce": conversation_id,
              "iat": int(now.timestamp()), "nbf": int(now.timestamp()),
              "exp": int((now + timedelta(seconds=ttl_s or cfg.assertion_ttl_s)).timestamp()),
              "jti": secrets.token_urlsafe(16)}
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": key_id(key)})
