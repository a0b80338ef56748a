"""Phone-call security without the models: call tokens, the shared call directory (real Redis), settings."""

import asyncio
import uuid

import pytest
from pydantic import ValidationError

from assistant.channels.call_directory import MemoryCallDirectory, RedisCallDirectory
from assistant.channels.call_tokens import BadCallToken, CallTokens
from assistant.channels.voice_types import CallOutcome
from assistant.config import Settings

REDIS = "redis://127.0.0.1:6379/0"
AUTH = "hK3_2jd8ZqP0xLm1vB7nQ9wRtY4uE6aS"


def test_call_token_names_the_conversation_of_its_own_call_only():
    tokens = CallTokens.from_auth_token(AUTH)
    token = tokens.issue("conv-1", "CA1")
    grant = tokens.verify(token, "CA1")
    assert grant.conversation_id == "conv-1" and grant.call_sid == "CA1" and grant.token_id
    assert CallTokens.from_auth_token(AUTH).verify(token, "CA1").conversation_id == "conv-1"  # another replica
    with pytest.raises(BadCallToken, match="another call"):
        tokens.verify(token, "CA2")


@pytest.mark.parametrize("case", ["missing", "expired", "other key", "tampered", "not a jwt", "unsigned"])
def test_bad_call_tokens_are_refused(case):
    import jwt

    tokens = CallTokens.from_auth_token(AUTH)
    good = tokens.issue("conv-1", "CA1")
    head, body, sig = good.split(".")
    token = {
        "missing": None,
        "expired": tokens.issue("conv-1", "CA1", now=0),
        "other key": CallTokens.from_auth_token(AUTH + "x").issue("conv-1", "CA1"),
        "tampered": ".".join([head, jwt.utils.base64url_encode(b'{"cid":"victim","call":"CA1","jti":"x","exp":9999999999,'
                                                               b'"aud":"bankassist:twilio-stream"}').decode(), sig]),
        "not a jwt": "conversation-id-of-someone-else",
        "unsigned": jwt.encode({"cid": "victim", "call": "CA1", "jti": "x", "exp": 9999999999,
                                "aud": "bankassist:twilio-stream"}, None, algorithm="none"),
    }[case]
    with pytest.raises(BadCallToken):
        tokens.verify(token, "CA1")


def test_without_an_auth_token_each_process_has_its_own_key():
    token = CallTokens.from_auth_token(None).issue("conv-1", "CA1")
    with pytest.raises(BadCallToken):
        CallTokens.from_auth_token(None).verify(token, "CA1")


def test_production_requires_a_twilio_auth_token_unless_telephony_is_off():
    real = {"environment": "production", "security": {"admin_token": AUTH}, "audit": {"key": AUTH[::-1]}, "_env_file": None}
    with pytest.raises(ValidationError) as err:
        Settings(**real)
    assert "BANK_VOICE__TWILIO_AUTH_TOKEN is required" in str(err.value)
    assert Settings(**real, voice={"twilio_auth_token": AUTH}).voice.twilio_auth_token == AUTH
    assert Settings(**real, voice={"telephony": False, "twilio_auth_token": ""}).voice.twilio_auth_token is None


def test_memory_directory_pops_once_and_claims_once():
    async def run():
        d = MemoryCallDirectory()
        await d.set("CA1", CallOutcome("transfer", 7, "dtmf"))
        assert await d.pop("CA1") == CallOutcome("transfer", 7, "dtmf")
        assert await d.pop("CA1") is None
        assert await d.claim("t1") and not await d.claim("t1")

    asyncio.run(run())


@pytest.fixture
def redis_prefix():
    import redis

    client = redis.Redis.from_url(REDIS, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("Redis at 127.0.0.1:6379 is not reachable")
    prefix = f"test-calls-{uuid.uuid4().hex[:8]}:"
    yield prefix
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)
    client.close()


def test_two_replicas_share_call_outcomes_and_token_claims_through_redis(redis_prefix):
    """The stream closes on replica A; Twilio's <Connect action> request lands on replica B."""
    async def run():
        a, b = RedisCallDirectory(REDIS, prefix=redis_prefix), RedisCallDirectory(REDIS, prefix=redis_prefix)
        try:
            await a.set("CAx", CallOutcome("transfer", 42, "dtmf"))
            assert await b.pop("CAx") == CallOutcome("transfer", 42, "dtmf")
            assert await a.pop("CAx") is None and await b.pop("CAx") is None  # read once
            assert await a.claim("call-token:j1") and not await b.claim("call-token:j1")
        finally:
            await a.close()
            await b.close()

    asyncio.run(run())


def test_redis_down_keeps_the_outcome_in_this_process():
    async def run():
        d = RedisCallDirectory("redis://127.0.0.1:1/0", timeout_s=0.5)  # nothing listens on port 1
        await d.set("CAy", CallOutcome("transfer", 1, "dtmf"))
        assert await d.pop("CAy") == CallOutcome("transfer", 1, "dtmf")
        assert await d.claim("k") and not await d.claim("k")
        await d.close()

    asyncio.run(run())
