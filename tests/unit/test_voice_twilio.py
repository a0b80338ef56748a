"""Twilio Media Streams messages, TwiML and webhook signatures."""

import base64
import json

import pytest

from voice import twilio


def _msg(**kw) -> str:
    return json.dumps(kw)


def test_parse_the_inbound_events():
    assert isinstance(twilio.parse(_msg(event="connected", protocol="Call", version="1.0.0")), twilio.Connected)
    start = twilio.parse(_msg(event="start", streamSid="MZ1", start={
        "streamSid": "MZ1", "callSid": "CA1", "accountSid": "AC1",
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": {"conversation_id": "c1"}}))
    assert start == twilio.Start("MZ1", "CA1", "AC1", "audio/x-mulaw", 8000, {"conversation_id": "c1"})
    media = twilio.parse(_msg(event="media", streamSid="MZ1", media={"track": "inbound", "chunk": "2", "timestamp": "40",
                                                                     "payload": base64.b64encode(b"\xff" * 160).decode()}))
    assert media == twilio.Media(b"\xff" * 160, "inbound", 40)
    assert twilio.parse(_msg(event="mark", streamSid="MZ1", mark={"name": "m3"})) == twilio.Mark("m3")
    assert twilio.parse(_msg(event="dtmf", streamSid="MZ1", dtmf={"track": "inbound_track", "digit": "0"})) == twilio.Dtmf("0")
    assert isinstance(twilio.parse(_msg(event="stop", streamSid="MZ1", stop={"callSid": "CA1"})), twilio.Stop)
    assert twilio.parse(_msg(event="something-new")) is None


@pytest.mark.parametrize("text", [
    "not json", "[1, 2]", _msg(event="start", start={}),
    _msg(event="media", media={"payload": "%%%"}), _msg(event="media", media={}),
    _msg(event="media", media={"payload": base64.b64encode(b"x" * 20000).decode()}),
    _msg(event="dtmf", dtmf={"digit": "12"}), "x" * 70000,
    # websocket fuzzer inputs (tests/wsfuzz_frames.py): each raised something other than ProtocolError
    "[" * 20000 + "]" * 20000,
    _msg(event="start", streamSid="MZ1", start={"mediaFormat": "pcm"}),
    _msg(event="start", streamSid="MZ1", start={"mediaFormat": {"sampleRate": "fast"}}),
    _msg(event="start", streamSid="MZ1", start={"mediaFormat": {"sampleRate": [8000]}}),
    '{"event": "start", "streamSid": "MZ1", "start": {"mediaFormat": {"sampleRate": Infinity}}}',
])
def test_malformed_messages_raise_protocol_error(text):
    with pytest.raises(twilio.ProtocolError):
        twilio.parse(text)


def test_outbound_messages():
    media = json.loads(twilio.media_message("MZ1", b"\x01\x02"))
    assert media == {"event": "media", "streamSid": "MZ1", "media": {"payload": "AQI="}}
    assert json.loads(twilio.mark_message("MZ1", "m1")) == {"event": "mark", "streamSid": "MZ1", "mark": {"name": "m1"}}
    assert json.loads(twilio.clear_message("MZ1")) == {"event": "clear", "streamSid": "MZ1"}


def test_twiml_is_escaped_xml():
    xml = twilio.connect_stream("wss://h/v1/voice/twilio", "https://h/next", {"a": 'x"<y'})
    assert xml.startswith('<?xml') and '<Connect action="https://h/next"><Stream url="wss://h/v1/voice/twilio">' in xml
    assert "&quot;&lt;y" in xml or "&lt;y" in xml
    assert "<Dial" in twilio.dial("+15550100") and "<Hangup/>" in twilio.hangup("Bye & thanks")
    assert "Bye &amp; thanks" in twilio.hangup("Bye & thanks")
    assert 'waitUrl="https://h/hold"' in twilio.enqueue("agents", "https://h/hold")


def test_signature_validation():
    params = {"CallSid": "CA1", "From": "+15550100"}
    sig = twilio.signature("token", "https://h/v1/voice/twiml", params)
    assert twilio.valid_signature("token", "https://h/v1/voice/twiml", params, sig)
    assert not twilio.valid_signature("token", "https://h/v1/voice/twiml", {**params, "From": "+1"}, sig)
    assert not twilio.valid_signature("token", "https://h/v1/voice/twiml", params, None)


def test_a_non_ascii_digit_timestamp_is_ignored():
    media = twilio.parse(_msg(event="media", media={"payload": "//8=", "timestamp": "\u00b2"}))  # '²'.isdigit()
    assert media == twilio.Media(b"\xff\xff", "inbound", None)
