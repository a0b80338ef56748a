"""Text frames a client sends on the PCM voice socket (docs/voice.md), as one tagged union.

A frame is chosen by its parsed `type`: `mark` (a clip finished playing), `dtmf` (a key, e.g. the
"agent" button's 0), `hangup`. Text that is not JSON is a protocol error (the socket answers an
error event and closes, code 1008); a JSON value of any other type, or a known type with unusable
fields, is ignored: the call goes on.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Tag, TypeAdapter, ValidationError

from voice.twilio import Text  # a field any JSON value fills as text, as on the Twilio stream


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PcmMark(_Frame):
    type: Literal["mark"]
    name: Text = ""


class PcmDtmf(_Frame):
    type: Literal["dtmf"]
    digit: Text = ""


class PcmHangup(_Frame):
    type: Literal["hangup"]


class PcmOther(_Frame):
    """Any other frame: ignored (clients may send kinds this server does not know)."""


PcmFrame = PcmMark | PcmDtmf | PcmHangup | PcmOther
_KINDS = ("mark", "dtmf", "hangup")


def _kind(frame: object) -> str:
    kind = frame.get("type") if isinstance(frame, dict) else None
    return kind if kind in _KINDS else "other"


_FRAMES: TypeAdapter[PcmFrame] = TypeAdapter(Annotated[
    Annotated[PcmMark, Tag("mark")] | Annotated[PcmDtmf, Tag("dtmf")] | Annotated[PcmHangup, Tag("hangup")]
    | Annotated[PcmOther, Tag("other")], Discriminator(_kind)])


def pcm_frame(text: str) -> PcmFrame:
    """The frame in `text`. Raises ValueError when it is not JSON."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands of levels deep
        raise ValueError("text frames must be JSON") from None
    try:
        return _FRAMES.validate_python(raw if isinstance(raw, dict) else {})
    except ValidationError:
        return PcmOther()
