"""Call tokens: the only way a Twilio media stream names the conversation it speaks into.

`POST /v1/voice/twiml` creates the call's conversation and puts a token into the TwiML
(`<Stream><Parameter name="call_token" value="…"/>`); Twilio sends it back in the stream's
`start.customParameters`. The token is a JWT (HS256) naming the conversation and the CallSid,
valid for TTL_S seconds and spent by the first stream that shows it. A raw
`customParameters.conversation_id` is never read, so a stream cannot join a conversation
the server did not give it.

The key is derived from BANK_VOICE__TWILIO_AUTH_TOKEN (HMAC-SHA256 with a fixed label, so the
token itself never signs anything of ours), which every replica has; without that setting
(dev only) each process makes a random key, and the webhook and the stream must reach the
same process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Self

import jwt

AUDIENCE = "bankassist:twilio-stream"
TTL_S = 120  # Twilio opens the stream within seconds of reading the TwiML
_LABEL = b"bankassist call token v1"


class BadCallToken(ValueError):
    """Missing, forged, expired, or for another call."""


@dataclass(frozen=True, slots=True)
class CallGrant:
    conversation_id: str
    call_sid: str
    token_id: str


class CallTokens:
    audience, label, ttl_s = AUDIENCE, _LABEL, TTL_S
    missing = "the stream has no call_token parameter (start calls at POST /v1/voice/twiml)"

    def __init__(self, key: bytes, *, ttl_s: float | None = None) -> None:
        self._key, self._ttl = key, self.ttl_s if ttl_s is None else ttl_s

    @classmethod
    def from_auth_token(cls, auth_token: str | None) -> Self:
        if not auth_token:
            return cls(secrets.token_bytes(32))
        return cls(hmac.new(auth_token.encode(), cls.label, hashlib.sha256).digest())

    def issue(self, conversation_id: str, call_sid: str, *, now: float | None = None) -> str:
        t = time.time() if now is None else now
        claims = {"aud": self.audience, "cid": conversation_id, "call": call_sid, "jti": uuid.uuid4().hex,
                  "iat": int(t), "exp": int(t + self._ttl)}
        return jwt.encode(claims, self._key, algorithm="HS256")

    def verify(self, token: str | None, call_sid: str) -> CallGrant:
        """The grant of a token issued for this CallSid and not expired. Raises BadCallToken."""
        if not token:
            raise BadCallToken(self.missing)
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"], audience=self.audience,
                                options={"require": ["exp", "cid", "call", "jti"]})
        except jwt.ExpiredSignatureError:
            raise BadCallToken("call token expired") from None
        except jwt.PyJWTError:
            raise BadCallToken("call token is not valid") from None
        if not isinstance(claims["cid"], str) or not hmac.compare_digest(str(claims["call"]).encode(), call_sid.encode()):
            raise BadCallToken("call token belongs to another call")
        return CallGrant(claims["cid"], call_sid, str(claims["jti"]))


class SurveyTokens(CallTokens):
    """The `call` query parameter of the after-agent survey URLs (<Dial action>, <Enqueue action>, <Gather
    action>): names the call's conversation and CallSid, lives as long as a call may (Twilio ends calls at 4 h),
    is not spent (the survey stores one answer per conversation), and is signed with a key of its own."""

    audience, label, ttl_s = "bankassist:twilio-survey", b"bankassist survey token v1", 6 * 3600
    missing = "no call parameter (the survey URL comes from POST /v1/voice/twiml/next)"
