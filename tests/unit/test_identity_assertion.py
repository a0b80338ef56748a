"""Identity assertions: only a fresh, unreplayed assertion signed by the bank's key, for this
issuer, audience and conversation, proves who the customer is."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from assistant.banking.identity import AssertionRejected, IdentityVerifier, SqlReplayStore, verify_assertion
from assistant.storage.db import make_engine, migrate, session_factory
from sandbox_bank import identity as bank_identity
from sandbox_bank.config import SandboxConfig

ISS, AUD = "https://sandbox.larkspur.example", "bankassist"


@pytest.fixture
def cfg(tmp_path):
    return SandboxConfig(data_dir=tmp_path / "sandbox", issuer=ISS, audience=AUD)


@pytest.fixture
def replay(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'assistant.db'}")
    migrate(engine)
    return SqlReplayStore(session_factory(engine))


@pytest.fixture
def verifier(cfg, replay):
    bank_identity.signing_key(cfg)  # writes the JWKS file the assistant reads
    return IdentityVerifier(jwks_path=cfg.jwks_path, issuer=ISS, audience=AUD, replay_store=replay)


def claims(conversation: str, **over) -> dict:
    now = int(time.time())
    return {"iss": ISS, "aud": AUD, "sub": "cus_alex", "nonce": conversation, "iat": now, "nbf": now,
            "exp": now + 300, "jti": uuid.uuid4().hex} | over


def sign(cfg, payload: dict, **headers) -> str:
    key = bank_identity.signing_key(cfg)
    return jwt.encode(payload, key, algorithm="ES256", headers={"kid": bank_identity.key_id(key)} | headers)


def reason(verifier, token: str, conversation: str) -> str:
    with pytest.raises(AssertionRejected) as exc:
        verifier.verify(token, conversation)
    return exc.value.reason


def test_the_sandbox_token_verifies_once(cfg, verifier):
    token = bank_identity.issue_assertion(cfg, "cus_alex", "conv-1")
    who = verifier.verify(token, "conv-1")
    assert (who.customer_id, who.conversation_id, who.issuer) == ("cus_alex", "conv-1", ISS)
    assert who.expires_at > datetime.now(UTC)
    assert reason(verifier, token, "conv-1") == "replayed"


def test_replay_is_refused_across_processes(cfg, tmp_path):
    """Two verifiers (two API processes) over one database: the second sees the first's jti."""
    bank_identity.signing_key(cfg)
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = make_engine(url)
    migrate(engine)
    a = IdentityVerifier(jwks_path=cfg.jwks_path, issuer=ISS, audience=AUD,
                         replay_store=SqlReplayStore(session_factory(engine)))
    b = IdentityVerifier(jwks_path=cfg.jwks_path, issuer=ISS, audience=AUD,
                         replay_store=SqlReplayStore(session_factory(make_engine(url))))
    token = bank_identity.issue_assertion(cfg, "cus_alex", "c")
    a.verify(token, "c")
    assert reason(b, token, "c") == "replayed"


def test_bound_to_its_conversation(cfg, verifier):
    token = bank_identity.issue_assertion(cfg, "cus_alex", "conv-1")
    assert reason(verifier, token, "conv-2") == "wrong_conversation"


def test_forged_with_another_key(verifier):
    other = ec.generate_private_key(ec.SECP256R1())
    kid = json.loads(verifier._keys.path.read_text())["keys"][0]["kid"]
    token = jwt.encode(claims("c"), other, algorithm="ES256", headers={"kid": kid})
    assert reason(verifier, token, "c") == "bad_signature"
    token = jwt.encode(claims("c"), other, algorithm="ES256", headers={"kid": "someone-else"})
    assert reason(verifier, token, "c") == "unknown_key"


def test_tampered_claims(cfg, verifier):
    header, payload, signature = sign(cfg, claims("c")).split(".")
    forged = jwt.utils.base64url_encode(json.dumps(claims("c", sub="cus_priya")).encode()).decode()
    assert reason(verifier, f"{header}.{forged}.{signature}", "c") == "bad_signature"


def test_algorithm_confusion_and_none(cfg, verifier):
    public_pem = bank_identity.signing_key(cfg).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    import hashlib
    import hmac

    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = jwt.utils.base64url_encode(json.dumps(claims("c")).encode())
    mac = jwt.utils.base64url_encode(hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest())
    assert reason(verifier, (header + b"." + body + b"." + mac).decode(), "c") == "algorithm"
    unsigned = jwt.encode(claims("c"), None, algorithm="none")
    assert reason(verifier, unsigned, "c") == "algorithm"
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = bank_identity.key_id(bank_identity.signing_key(cfg))
    assert reason(verifier, jwt.encode(claims("c"), rsa_key, algorithm="RS256", headers={"kid": kid}), "c") == "algorithm"


@pytest.mark.parametrize("over, why", [  # times relative to when the test runs, not to collection
    (lambda now: {"exp": now - 120, "iat": now - 400}, "expired"),
    (lambda now: {"aud": "someone-else"}, "wrong_audience"),
    (lambda now: {"iss": "https://evil.example"}, "wrong_issuer"),
    (lambda now: {"nbf": now + 600}, "not_yet_valid"),
    (lambda now: {"exp": now + 86_400}, "too_long_lived"),
    (lambda now: {"sub": ""}, "malformed"),
])
def test_bad_claims(cfg, verifier, over, why):
    assert reason(verifier, sign(cfg, claims("c", **over(int(time.time())))), "c") == why


@pytest.mark.parametrize("missing", ["jti", "nonce", "exp", "sub", "aud"])
def test_missing_claims(cfg, verifier, missing):
    payload = claims("c")
    del payload[missing]
    assert reason(verifier, sign(cfg, payload), "c") in ("missing_claim", "wrong_audience")


@pytest.mark.parametrize("token", ["", "not.a.jwt", "a" * 9000, "e30.e30.e30"])
def test_garbage(verifier, token):
    assert reason(verifier, token, "c") in ("malformed", "algorithm")


def test_an_rs256_bank_key_works_too(tmp_path, replay):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())) | {"kid": "rsa-1", "alg": "RS256"}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    token = jwt.encode(claims("c"), key, algorithm="RS256", headers={"kid": "rsa-1"})
    who = verify_assertion(token, keys=path, issuer=ISS, audience=AUD, conversation_id="c", replay_store=replay)
    assert who.customer_id == "cus_alex"


def test_expired_replay_rows_are_purged(replay):
    past = datetime.now(UTC) - timedelta(minutes=1)
    assert replay.remember("old", past) is True
    assert replay.remember("new", datetime.now(UTC) + timedelta(minutes=5)) is True  # purges "old"
    assert replay.remember("old", past) is True  # gone from the table: it could not be replayed anyway (expired)
    assert replay.remember("new", datetime.now(UTC) + timedelta(minutes=5)) is False


def test_missing_jwks_file_rejects(tmp_path, replay):
    v = IdentityVerifier(jwks_path=tmp_path / "none.json", issuer=ISS, audience=AUD, replay_store=replay)
    assert reason(v, "a.b.c", "c") == "no_keys"


def test_the_dev_key_is_made_once_and_published(cfg):
    import os
    import threading

    kids: list[str] = []
    threads = [threading.Thread(target=lambda: kids.append(bank_identity.key_id(bank_identity.signing_key(cfg))))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(kids)) == 1
    assert json.loads(cfg.jwks_path.read_text())["keys"][0]["kid"] == kids[0]
    assert os.stat(cfg.signing_key_path).st_mode & 0o777 == 0o600
    assert not list(cfg.data_dir.glob("*.tmp"))


def test_a_rotated_key_is_picked_up(cfg, verifier):
    import os

    old = bank_identity.issue_assertion(cfg, "cus_alex", "c1")
    assert verifier.verify(old, "c1").customer_id == "cus_alex"
    os.unlink(cfg.signing_key_path)  # the bank rotates its key: the JWKS file changes with it
    fresh = bank_identity.issue_assertion(cfg, "cus_alex", "c2")
    stat = cfg.jwks_path.stat()
    os.utime(cfg.jwks_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a visibly newer file
    assert verifier.verify(fresh, "c2").customer_id == "cus_alex"
