"""What a voice session and its transports share: prompts, config, the call outcome, the audio-out protocol,
the phase of a turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from assistant.i18n import t

if TYPE_CHECKING:
    from assistant.analytics.csat import CsatRepository
    from assistant.core.events import Channel
    from assistant.core.pipeline import TurnRunner
    from assistant.core.sign_in import KeypadSignIn
    from assistant.handoff.service import HandoffService
    from assistant.storage.repository import ConversationRepository
    from assistant.storage.tickets import TicketRepository



class SessionServices(Protocol):
    """What a voice session uses of the assistant (assistant.services.Services implements it).
    `handoff` and `tickets` may be None: the call then transfers without a ticket."""

    @property
    def conversations(self) -> ConversationRepository: ...
    @property
    def pipeline(self) -> TurnRunner: ...
    @property
    def handoff(self) -> HandoffService | None: ...
    @property
    def tickets(self) -> TicketRepository | None: ...
    @property
    def keypad(self) -> KeypadSignIn | None: ...
    @property
    def csat(self) -> CsatRepository | None: ...


@dataclass(frozen=True, slots=True)
class VoicePrompts:
    """What the caller hears; defaults from the message catalogue's voice.* keys."""

    greeting: str = t("voice.greeting")
    not_heard: str = t("voice.not_heard")
    reprompt: str = t("voice.reprompt")
    goodbye: str = t("voice.goodbye")
    transfer: str = t("voice.transfer")
    apology: str = t("voice.apology")
    slow_down: str = t("voice.slow_down")
    csat_ask: str = t("voice.csat_ask")
    csat_thanks: str = t("voice.csat_thanks")
    csat_timeout: str = t("voice.csat_timeout")


@dataclass(frozen=True, slots=True)
class SessionConfig:
    prompts: VoicePrompts = field(default_factory=VoicePrompts)
    silence_reprompt_s: float = 8.0
    max_reprompts: int = 2
    partials: bool = False
    partial_every_s: float = 1.0
    close_timeout_s: float = 30.0
    channel: Channel = "voice"
    keypad: bool = True  # a phone keypad: 1/2 at read-backs, codes and sign-in typed (a robot has its screen)
    csat: bool = False  # after the caller's goodbye, ask for a keypad rating 1-5 (the phone line)


@dataclass(frozen=True, slots=True)
class CallOutcome:
    kind: Literal["hangup", "transfer", "caller_hangup"]
    ticket_id: int | None = None
    reason: str = ""


class AudioOut(Protocol):
    async def play(self, pcm16: np.ndarray, rate: int, mark: str) -> None: ...
    async def clear(self) -> None: ...
    async def notify(self, event: dict) -> None: ...
    async def end(self, outcome: CallOutcome) -> None: ...


class TurnPhase(Enum):
    """Where the caller's turn is: a barge-in during ASR joins the turns; during the pipeline it cancels it."""

    IDLE = "idle"  # no turn yet
    ASR = "asr"
    PIPELINE = "pipeline"
    DONE = "done"
