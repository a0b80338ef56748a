"""Lobby-robot protocol v1: the messages, as pydantic models (docs/robot-protocol.md).

Every JSON message carries `v` (protocol version) and `type`. Audio in is binary PCM16 LE
mono 16 kHz; audio out is an `audio` JSON header followed by one binary PCM16 frame.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.i18n import t

SUPPORTED_VERSIONS = (1,)
CLOSE_UNAUTHORIZED = 4401   # missing, bad or revoked robot token
CLOSE_PROTOCOL = 4400       # first message not hello, unsupported version, or repeated malformed frames
CLOSE_IDLE = 4408           # nothing received for idle_timeout_s
MAX_TEXT_FRAME = 16_384     # bytes of one JSON frame
MAX_AUDIO_FRAME = 64_000    # bytes of one binary frame (2 s of PCM16 at 16 kHz)


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    v: Literal[1] = 1


class Hello(_Msg):
    type: Literal["hello"]
    token: str = Field(min_length=8, max_length=200)
    robot_id: str | None = Field(default=None, max_length=64)
    conversation_id: str | None = Field(default=None, max_length=64, description="resume an earlier session")
    tts: bool = Field(default=False, description="send spoken replies as audio")


class Text(_Msg):
    type: Literal["text"]
    text: str = Field(min_length=1, max_length=4000)


class Played(_Msg):
    type: Literal["played"]
    mark: str = Field(max_length=32)


class Ping(_Msg):
    type: Literal["ping"]
    id: str | None = Field(default=None, max_length=64)


class Bye(_Msg):
    type: Literal["bye"]


class SignIn(_Msg):
    """The visitor typed a customer number and phone PIN on the robot's screen (shown when a reply's
    display.screen is "sign_in"). Sent to the bank only: never shown, stored or logged."""

    type: Literal["sign_in"]
    customer_number: str = Field(pattern=r"^[0-9]{6,12}$")
    pin: str = Field(pattern=r"^[0-9]{4,8}$")


class Done(_Msg):
    """The visitor has finished (e.g. tapped "Done" on the screen): the server answers with `survey`."""

    type: Literal["done"]


class Csat(_Msg):
    """The visitor's answer to `survey`, once per conversation."""

    type: Literal["csat"]
    score: int = Field(ge=1, le=5, description="1 (very dissatisfied) to 5 (very satisfied)")
    comment: str | None = Field(default=None, max_length=1000, description="optional; stored redacted")


CLIENT_MESSAGES: dict[str, type[_Msg]] = {"hello": Hello, "text": Text, "played": Played, "ping": Ping, "bye": Bye,
                                          "sign_in": SignIn, "done": Done, "csat": Csat}


Screen = Literal["answer", "clarify", "staff", "refused", "error", "confirm", "sign_in", "code"]
ErrorCode = Literal["malformed", "unsupported_version", "unknown_type", "frame_too_large", "not_ready", "voice_unavailable",
                    "rate_limited", "already_rated"]


class Display(BaseModel):
    """What the screen shows. Self-service screens: "confirm" (Yes / No buttons that send text "yes" / "no"),
    "sign_in" (a keypad for the customer number and PIN: send `sign_in`), "code" (a keypad for a one-time
    code: send it as text)."""

    screen: Screen
    service: str
    counter: str | None = None


class Session(_Msg):
    type: Literal["session"] = "session"
    session_id: str
    conversation_id: str
    branch_id: str
    supported_versions: list[int]
    idle_timeout_s: float
    audio_in: str = "pcm16le/16000/mono"
    audio_out: str | None = None


class Transcript(_Msg):
    type: Literal["transcript"] = "transcript"
    final: bool
    text: str


class ReplyDelta(_Msg):
    type: Literal["reply_delta"] = "reply_delta"
    text: str


class Citation(BaseModel):
    doc_id: str
    title: str
    snippet: str


class Reply(_Msg):
    type: Literal["reply"] = "reply"
    text: str
    path: str
    citations: list[Citation]
    suggestions: list[str]
    intent: str | None
    display: Display
    message_id: int | None


class SignInResult(_Msg):
    type: Literal["sign_in_result"] = "sign_in_result"
    status: Literal["signed_in", "rejected", "locked", "unavailable"]
    text: str  # show and say it; on signed_in a `reply` with the flow's next step follows


class StaffNeeded(_Msg):
    type: Literal["staff_needed"] = "staff_needed"
    ticket_id: int
    reason: str
    branch_id: str
    position: int
    expected_wait_minutes: int


class Audio(_Msg):
    type: Literal["audio"] = "audio"
    mark: str
    sample_rate: int
    bytes: int


class Pong(_Msg):
    type: Literal["pong"] = "pong"
    id: str | None = None


class Survey(_Msg):
    """Show the satisfaction question on screen (after a goodbye, or `done`); answer with `csat`."""

    type: Literal["survey"] = "survey"
    conversation_id: str
    question: str
    scores: list[int] = [1, 2, 3, 4, 5]
    labels: dict[str, str] = {"1": t("csat.very_dissatisfied"), "5": t("csat.very_satisfied")}
    comment: bool = Field(default=True, description="a comment field may be shown")


class CsatSaved(_Msg):
    type: Literal["csat_saved"] = "csat_saved"
    score: int


class Error(_Msg):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    supported_versions: list[int] | None = None


class ServerBye(_Msg):
    type: Literal["bye"] = "bye"
    reason: str


SERVER_MESSAGES: dict[str, type[_Msg]] = {m.model_fields["type"].default: m for m in (
    Session, Transcript, ReplyDelta, Reply, SignInResult, StaffNeeded, Audio, Pong, Survey, CsatSaved, Error, ServerBye)}


def parse_client(text: str) -> _Msg | tuple[ErrorCode, str]:
    """A client message, chosen by its `type` from CLIENT_MESSAGES, or an (error code, message) to answer."""
    if len(text.encode()) > MAX_TEXT_FRAME:
        return ("frame_too_large", f"JSON frames are limited to {MAX_TEXT_FRAME} bytes")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands of levels deep
        return ("malformed", "frames must be JSON objects")
    if not isinstance(raw, dict):
        return ("malformed", "frames must be JSON objects")
    if raw.get("v") not in SUPPORTED_VERSIONS:
        return ("unsupported_version", f"protocol version {str(raw.get('v'))[:20]!r} is not supported")
    kind = raw.get("type")
    model = CLIENT_MESSAGES.get(kind) if isinstance(kind, str) else None  # a list or object is no type
    if model is None:
        return ("unknown_type", f"unknown message type {str(kind)[:40]!r}; known: {sorted(CLIENT_MESSAGES)}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        return ("malformed", "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))


_SCREENS: dict[str, Screen] = {"clarify": "clarify", "refused": "refused", "error": "error"}  # by reply path
_FLOW_SCREENS: dict[str, Screen] = {"confirm": "confirm", "identity": "sign_in", "code": "code"}  # by what a flow awaits


class DisplayMap:
    """Which service or counter to guide a visitor to, from the answer's topic."""

    @staticmethod
    @functools.lru_cache(maxsize=4)
    def load(path: Path) -> DisplayMap:
        """Read once per file, not per robot session (parsing it per session showed under load:
        docs/decisions/0009-faq-path-under-load.md)."""
        return DisplayMap(path)

    def __init__(self, path: Path) -> None:
        raw = yaml.safe_load(path.read_text())
        self.default, self.staff = raw["default"], raw["staff"]
        self.categories, self.keywords = raw.get("categories", {}), raw.get("intent_keywords", {})

    def for_reply(self, path: str, categories: list[str], intent: str | None, awaiting: str | None = None) -> Display:
        """`awaiting`: what a self-service flow waits for (FlowInfo.awaiting), which picks its own screen."""
        if path in ("handoff", "human"):
            return Display(screen="staff", **self.staff)
        screen = _FLOW_SCREENS.get(awaiting or "") or _SCREENS.get(path, "answer")
        for c in categories:
            if c in self.categories:
                return Display(screen=screen, **self.categories[c])
        for word, category in self.keywords.items():
            if intent and word in intent and category in self.categories:
                return Display(screen=screen, **self.categories[category])
        return Display(screen=screen, **self.default)


def schemas_markdown() -> str:
    """JSON schemas of every message, as embedded in docs/robot-protocol.md."""
    parts = []
    for direction, table in (("client → server", CLIENT_MESSAGES), ("server → client", SERVER_MESSAGES)):
        for name, model in table.items():
            schema = json.dumps(model.model_json_schema(), indent=1, sort_keys=True)
            parts.append(f"### `{name}` ({direction})\n\n```json\n{schema}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":  # python -m assistant.channels.robot_protocol > schemas section
    print(schemas_markdown())
