"""Twilio Media Streams: the websocket messages, TwiML and request signatures.

Inbound (Twilio -> us): connected, start, media (base64 8 kHz mu-law), dtmf, mark, stop.
Outbound (us -> Twilio, bidirectional streams from <Connect><Stream>): media, mark, clear.
Twilio plays outbound media in order and echoes each mark when the audio before it has
played; `clear` drops the buffered audio (barge-in) and Twilio then returns the marks of
what it dropped, so marks that arrive after a clear do not count as heard.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Annotated, Literal
from xml.sax.saxutils import escape, quoteattr

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictInt,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
)

MAX_MESSAGE_CHARS = 64 * 1024
MAX_PAYLOAD_BYTES = 16 * 1024  # 2 s of audio; Twilio sends 20 ms (160 bytes) a message


class ProtocolError(ValueError):
    """A message we cannot use. The call goes on unless it is the start we need."""


@dataclass(frozen=True, slots=True)
class Connected:
    protocol: str = "Call"


@dataclass(frozen=True, slots=True)
class Start:
    stream_sid: str
    call_sid: str
    account_sid: str = ""
    encoding: str = "audio/x-mulaw"
    sample_rate: int = 8000
    custom_parameters: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Media:
    payload: bytes  # mu-law
    track: str = "inbound"
    timestamp_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Mark:
    name: str


@dataclass(frozen=True, slots=True)
class Dtmf:
    digit: str


@dataclass(frozen=True, slots=True)
class Stop:
    call_sid: str = ""


TwilioEvent = Connected | Start | Media | Mark | Dtmf | Stop


def _object(value: object) -> dict:
    """A message's body: an object, or empty (Twilio adds fields; a missing body is not an error)."""
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


Body = Annotated[dict, BeforeValidator(_object)]
Text = Annotated[str, BeforeValidator(_text)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _ConnectedMsg(_Wire):
    event: Literal["connected"]
    protocol: Text = "Call"


class _MediaFormat(_Wire):
    encoding: Text = "audio/x-mulaw"
    sample_rate: StrictInt = Field(default=8000, alias="sampleRate")


class _StartBody(_Wire):
    stream_sid: str | None = Field(default=None, alias="streamSid")
    call_sid: Text = Field(default="", alias="callSid")
    account_sid: Text = Field(default="", alias="accountSid")
    media_format: _MediaFormat = Field(default_factory=_MediaFormat, alias="mediaFormat")
    custom_parameters: Body = Field(default_factory=dict, alias="customParameters")

    @field_validator("media_format", mode="before")
    @classmethod
    def _falsy_is_default(cls, value: object) -> object:
        return value or {}


class _StartMsg(_Wire):
    event: Literal["start"]
    stream_sid: object = Field(default=None, alias="streamSid")
    start: Annotated[_StartBody, BeforeValidator(_object)] = Field(default_factory=_StartBody)


class _MediaBody(_Wire):
    payload: str = Field(max_length=MAX_PAYLOAD_BYTES * 4 // 3 + 4)
    track: Text = "inbound"
    timestamp: Text = "None"


class _MediaMsg(_Wire):
    event: Literal["media"]
    media: Annotated[_MediaBody, BeforeValidator(_object)]


class _MarkMsg(_Wire):
    event: Literal["mark"]
    mark: Body = Field(default_factory=dict)


class _DtmfBody(_Wire):
    digit: Text = Field(default="", pattern=r"^[0-9*#A-D]$", validate_default=True)


class _DtmfMsg(_Wire):
    event: Literal["dtmf"]
    dtmf: Annotated[_DtmfBody, BeforeValidator(_object)] = Field(default_factory=_DtmfBody)


class _StopMsg(_Wire):
    event: Literal["stop"]
    stop: Body = Field(default_factory=dict)


class _OtherMsg(_Wire):
    """An event we do not use (Twilio may add kinds): ignored."""


def _event_kind(msg: object) -> str:
    kind = msg.get("event") if isinstance(msg, dict) else None
    return kind if kind in ("connected", "start", "media", "mark", "dtmf", "stop") else "other"


_Inbound = TypeAdapter(Annotated[
    Annotated[_ConnectedMsg, Tag("connected")] | Annotated[_StartMsg, Tag("start")]
    | Annotated[_MediaMsg, Tag("media")] | Annotated[_MarkMsg, Tag("mark")] | Annotated[_DtmfMsg, Tag("dtmf")]
    | Annotated[_StopMsg, Tag("stop")] | Annotated[_OtherMsg, Tag("other")],
    Discriminator(_event_kind)])
_ERRORS = {"start": "start with a malformed mediaFormat", "media": "media without payload", "dtmf": "bad dtmf digit"}


def parse(text: str) -> TwilioEvent | None:
    """One websocket text message -> an event; None for events we do not use. Raises ProtocolError."""
    if len(text) > MAX_MESSAGE_CHARS:
        raise ProtocolError("message too large")
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested thousands of levels deep
        raise ProtocolError("not JSON") from exc
    if not isinstance(msg, dict):
        raise ProtocolError("not a JSON object")
    try:
        wire = _Inbound.validate_python(msg)
    except ValidationError as exc:
        kind = _event_kind(msg)
        too_large = kind == "media" and any(e["type"] == "string_too_long" for e in exc.errors())
        raise ProtocolError("media payload too large" if too_large else _ERRORS.get(kind, "malformed")) from None
    return _event(wire)


def _event(wire: BaseModel) -> TwilioEvent | None:
    if isinstance(wire, _ConnectedMsg):
        return Connected(wire.protocol)
    if isinstance(wire, _StartMsg):
        return _start(wire)
    if isinstance(wire, _MediaMsg):
        try:
            audio = base64.b64decode(wire.media.payload, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ProtocolError("media payload is not base64") from exc
        ts = wire.media.timestamp
        return Media(audio, wire.media.track, int(ts) if ts.isascii() and ts.isdigit() else None)
    if isinstance(wire, _MarkMsg):
        return Mark(_text(wire.mark.get("name", "")))
    if isinstance(wire, _DtmfMsg):
        return Dtmf(wire.dtmf.digit)
    if isinstance(wire, _StopMsg):
        return Stop(_text(wire.stop.get("callSid", "")))
    return None


def _start(wire: _StartMsg) -> Start:
    """A start event; fields of the wrong type are a ProtocolError (e.g. `"sampleRate": "fast"`)."""
    sid = wire.stream_sid or wire.start.stream_sid
    if not isinstance(sid, str) or not sid:
        raise ProtocolError("start without streamSid")
    body, fmt = wire.start, wire.start.media_format
    return Start(sid, body.call_sid, body.account_sid, fmt.encoding, fmt.sample_rate or 8000,
                 {str(k): str(v) for k, v in body.custom_parameters.items()})


def media_message(stream_sid: str, ulaw: bytes) -> str:
    return json.dumps({"event": "media", "streamSid": stream_sid, "media": {"payload": base64.b64encode(ulaw).decode()}})


def mark_message(stream_sid: str, name: str) -> str:
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear_message(stream_sid: str) -> str:
    return json.dumps({"event": "clear", "streamSid": stream_sid})


# --- TwiML

def _response(*verbs: str) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?><Response>' + "".join(verbs) + "</Response>"


def connect_stream(ws_url: str, action_url: str | None = None, parameters: dict[str, str] | None = None) -> str:
    """Connect the call to our websocket (bidirectional). Twilio requests `action_url` when the socket closes."""
    params = "".join(f"<Parameter name={quoteattr(k)} value={quoteattr(v)}/>" for k, v in (parameters or {}).items())
    action = f" action={quoteattr(action_url)}" if action_url else ""
    return _response(f"<Connect{action}><Stream url={quoteattr(ws_url)}>{params}</Stream></Connect>")


def _action(url: str | None) -> str:
    return f" action={quoteattr(url)}" if url else ""


def dial(number: str, say: str | None = None, timeout_s: int = 30, action_url: str | None = None) -> str:
    """Transfer the call. Twilio requests `action_url` when the dialled leg ends (DialCallStatus) and the caller
    hears the TwiML it returns."""
    lead = f"<Say>{escape(say)}</Say>" if say else ""
    return _response(lead + f'<Dial timeout="{int(timeout_s)}"{_action(action_url)}>{escape(number)}</Dial>')


def enqueue(queue: str, wait_url: str, action_url: str | None = None) -> str:
    """Queue the call. Twilio requests `action_url` when the call leaves the queue; when an agent dequeued it,
    once the bridged call ends (QueueResult=bridged)."""
    return _response(f"<Enqueue waitUrl={quoteattr(wait_url)} waitUrlMethod=\"GET\"{_action(action_url)}>"
                     f"{escape(queue)}</Enqueue>")


def gather_digit(action_url: str, say: str, no_key: str | None = None, timeout_s: int = 8) -> str:
    """Ask for one key. Twilio posts it to `action_url` as Digits; with no key in `timeout_s` the call goes on
    past the <Gather>: `no_key` is said and the call ends."""
    tail = f"<Say>{escape(no_key)}</Say>" if no_key else ""
    return _response(f'<Gather numDigits="1" timeout="{int(timeout_s)}" action={quoteattr(action_url)} method="POST">'
                     f"<Say>{escape(say)}</Say></Gather>{tail}<Hangup/>")


def hold(play_url: str, say: str | None = None) -> str:
    lead = f"<Say>{escape(say)}</Say>" if say else ""
    return _response(lead + f'<Play loop="0">{escape(play_url)}</Play>')


def hangup(say: str | None = None) -> str:
    return _response((f"<Say>{escape(say)}</Say>" if say else "") + "<Hangup/>")


def signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the URL followed by the sorted POST parameters."""
    data = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def valid_signature(auth_token: str, url: str, params: dict[str, str], header: str | None) -> bool:
    if not header:
        return False
    return hmac.compare_digest(signature(auth_token, url, params), header)
