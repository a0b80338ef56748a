"""Every websocket of the API, as a fuzz target: its scripts (tests/wsfuzz_frames.py), its probe,
and a driver that plays a script against a live server and says how the socket ended.

A socket passes a script when, after the script, it answers the probe or closes with a proper code
(1000-1003, 1007-1009, 1013, 4000-4999) within the bound: never 1011, never a dropped connection
(1006), never silence. The text frames it sends must be JSON.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.wsfuzz_frames import Frame, Script, fuzzed_frames, json_values, junk_text, mutated, scripts

PROPER_CLOSE = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1013} | set(range(4000, 5000))
CALL_TOKEN, CALL_SID = "{CALL_TOKEN}", "{CALL_SID}"  # filled per connection: a call token is single-use


@dataclass
class Context:
    """Valid credentials the scripts may open with (made by the test before fuzzing)."""

    agent_token: str
    ticket_id: int
    robot_token: str
    conversation_id: str
    session_token: str


@dataclass
class Spec:
    name: str
    path: str
    scripts: Callable[[Context], st.SearchStrategy[Script]]
    probe: Callable[[str], dict]  # the frame that must be answered, made from a unique marker
    answered: Callable[[dict, str], bool]  # whether a received frame answers the probe with that marker


def _text(frames: list[dict]) -> list[Frame]:
    return [("text", json.dumps(f)) for f in frames]


def _opening(valid: list[dict]) -> st.SearchStrategy[list[Frame]]:
    """The valid opening (4 in 7), a mutated one, junk, or nothing."""
    kinds = {"valid": st.just(_text(valid)), "broken": st.sampled_from(valid).flatmap(mutated).map(lambda f: _text([f])),
             "junk": junk_text().map(lambda t: [("text", t)]), "none": st.just([])}
    return st.sampled_from(["valid"] * 4 + ["broken", "junk", "none"]).flatmap(kinds.__getitem__)


def _chat(ctx: Context) -> st.SearchStrategy[Script]:
    own = {"conversation_id": ctx.conversation_id, "session_token": ctx.session_token}
    valid = [{"message": "What is the overdraft fee?"}, {"type": "message", "message": "hello", "channel": "web"},
             {"type": "message", "message": "How do I order checks?", **own}, {"type": "resume", **own}]
    return scripts(st.just([]), fuzzed_frames(valid), max_frames=5)


def _agent(ctx: Context) -> st.SearchStrategy[Script]:
    auth = [{"type": "auth", "token": ctx.agent_token}]
    valid = [{"ticket_id": ctx.ticket_id, "text": "Hello, this is your agent."}, {"ticket_id": 1, "text": " "}]
    return scripts(_opening(auth), fuzzed_frames(valid))


def _robot(ctx: Context) -> st.SearchStrategy[Script]:
    hello = [{"v": 1, "type": "hello", "token": ctx.robot_token, "tts": False}]
    valid = [{"v": 1, "type": "text", "text": "Where is the nearest ATM?"}, {"v": 1, "type": "ping", "id": "p"},
             {"v": 1, "type": "played", "mark": "t1"}, {"v": 1, "type": "bye"}, hello[0]]
    pcm = st.integers(1, 32_000).map(lambda n: bytes(2 * n)) | st.binary(max_size=4_000)
    return scripts(_opening(hello), fuzzed_frames(valid, binary=pcm))


def _pcm(ctx: Context) -> st.SearchStrategy[Script]:
    valid = [{"type": "mark", "name": "g1"}, {"type": "dtmf", "digit": "5"}, {"type": "hangup"}]
    rates = st.sampled_from([8000, 16000, 24000, 44100, 48000]) | st.integers(-1, 10**9)
    query = st.fixed_dictionaries({}, optional={
        "rate": rates, "out_rate": rates, "partials": st.booleans(), "channel": st.sampled_from(["voice", "robot", "web", "tv"]),
        "conversation_id": st.sampled_from([ctx.conversation_id, uuid.uuid4().hex]) | st.text(max_size=70)})
    auth = [{"type": "auth", "token": ctx.session_token}]
    pcm = st.integers(1, 16_000).map(lambda n: bytes(2 * n)) | st.binary(max_size=4_000) | st.binary(min_size=64_001, max_size=64_003)

    def build(q: dict) -> st.SearchStrategy[Script]:
        opening = _opening(auth) if "conversation_id" in q else st.just([])
        return scripts(opening, fuzzed_frames(valid, binary=pcm), query=st.just(q), max_frames=4)
    return query.flatmap(build)


def _twilio(ctx: Context) -> st.SearchStrategy[Script]:
    start = {"event": "start", "streamSid": "MZfuzz", "start": {
        "streamSid": "MZfuzz", "callSid": CALL_SID, "customParameters": {"call_token": CALL_TOKEN},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}
    opening = [{"event": "connected", "protocol": "Call"}, start]
    media = st.binary(min_size=1, max_size=640).map(
        lambda b: {"event": "media", "streamSid": "MZfuzz", "media": {"payload": base64.b64encode(b).decode()}})
    deep_start = st.tuples(st.sampled_from(["start", "mediaFormat", "customParameters"]), json_values).map(
        lambda kv: {**start, "start": {**start["start"], kv[0]: kv[1]}} if kv[0] != "start" else {**start, "start": kv[1]})
    valid = [{"event": "mark", "streamSid": "MZfuzz", "mark": {"name": "m1"}},
             {"event": "dtmf", "streamSid": "MZfuzz", "dtmf": {"digit": "1"}}, start]
    frames = st.one_of(fuzzed_frames(valid), media.map(lambda m: ("text", json.dumps(m))),
                       deep_start.map(lambda m: ("text", json.dumps(m))))
    return scripts(_opening(opening) | deep_start.map(lambda s: _text([s])), frames)


SPECS = [
    Spec("chat", "/v1/chat/ws", _chat, lambda m: {"message": "probe", m: 1},
         lambda f, m: f.get("type") == "error" and m in json.dumps(f)),
    Spec("agent", "/v1/agent/ws", _agent, lambda m: {"ticket_id": 2_000_000_000 + int(m[-6:], 16), "text": "probe"},
         lambda f, m: f.get("type") == "error" and str(2_000_000_000 + int(m[-6:], 16)) in str(f.get("detail"))),
    Spec("robot", "/v1/robot", _robot, lambda m: {"v": 1, "type": "ping", "id": m},
         lambda f, m: f.get("type") == "pong" and f.get("id") == m),
    Spec("voice_pcm", "/v1/voice/pcm", _pcm, lambda m: {"type": "hangup"}, lambda f, m: False),  # answered by closing
    Spec("twilio", "/v1/voice/twilio", _twilio, lambda m: {"event": "stop", "streamSid": "MZfuzz"}, lambda f, m: False),
]


@dataclass
class Outcome:
    socket: str
    ending: str  # answered | closed | client_closed | refused | hung | bad_close | bad_frame | handshake_error
    code: int | None = None
    sent: int = 0
    received: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.ending in ("answered", "closed", "client_closed", "refused")


def _fill(frame: Frame, call: tuple[str, str] | None) -> str | bytes:
    kind, data = frame
    if call is not None and kind == "text" and CALL_TOKEN in data:
        data = data.replace(CALL_TOKEN, call[0]).replace(CALL_SID, call[1])
    return data


def _await_probe(ws, spec: Spec, out: Outcome, bound_s: float) -> None:
    marker = "probe" + uuid.uuid4().hex[:10]
    ws.send(json.dumps(spec.probe(marker)))
    out.sent += 1
    deadline = time.monotonic() + bound_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            msg = ws.recv(timeout=left)
        except TimeoutError:
            break
        out.received += 1
        if isinstance(msg, bytes):
            continue
        try:
            frame = json.loads(msg)
        except ValueError:
            out.ending = "bad_frame"
            out.notes.append(f"non-JSON text frame: {msg[:80]!r}")
            return
        if isinstance(frame, dict) and spec.answered(frame, marker):
            out.ending = "answered"
            return
    out.ending = "hung"
    out.notes.append(f"no answer to the probe and no close within {bound_s:g} s")


def play(ws_base: str, spec: Spec, script: Script, *, bound_s: float,
         call_token: Callable[[], tuple[str, str]] | None = None) -> Outcome:
    """Play `script` on a new connection to `spec`'s socket; how it ended."""
    out = Outcome(spec.name, "hung")
    url = ws_base + spec.path + (f"?{urlencode(script.query)}" if script.query else "")
    wants_call = any(kind == "text" and CALL_TOKEN in data for kind, data in script.opening + script.frames)
    call = call_token() if wants_call and call_token is not None else None
    try:
        ws = connect(url, open_timeout=10, close_timeout=5, max_size=None)
    except InvalidStatus as exc:
        out.code = exc.response.status_code
        out.ending = "refused" if out.code < 500 else "handshake_error"
        return out
    with ws:
        try:
            for frame in script.opening + script.frames:
                ws.send(_fill(frame, call))  # str: a text frame; bytes: a binary frame
                out.sent += 1
            if script.close_code is not None:
                ws.close(script.close_code, "fuzz: client leaves early")
                out.ending = "client_closed"
                return out
            _await_probe(ws, spec, out, bound_s)
        except ConnectionClosed as exc:
            out.code = exc.rcvd.code if exc.rcvd is not None else None
            out.ending = "closed" if out.code in PROPER_CLOSE else "bad_close"
            if exc.rcvd is not None:
                out.notes.append(exc.rcvd.reason[:120])
    return out
