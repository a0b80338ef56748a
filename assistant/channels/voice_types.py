"""What a voice session and its transports share: prompts, config, the call outcome, the audio-out protocol,
and the utterance player (sentences synthesised in order while the previous one plays)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from assistant.i18n import t
from voice.sentences import speakable_pieces

if TYPE_CHECKING:
    from assistant.analytics.csat import CsatRepository
    from assistant.channels.voice_session import VoiceSession
    from assistant.core.events import Channel
    from assistant.core.pipeline import TurnRunner
    from assistant.core.sign_in import KeypadSignIn
    from assistant.handoff.service import HandoffService
    from assistant.storage.repository import ConversationRepository
    from assistant.storage.tickets import TicketRepository

log = logging.getLogger(__name__)
LOOKAHEAD_S = 4.0  # seconds of synthesized speech kept queued at the peer ahead of playback


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


class Utterance:
    """Sentences the bot says in order; synthesis of the next overlaps playback of the previous."""

    def __init__(self, session: VoiceSession, t0: float | None) -> None:
        self.s, self.t0 = session, t0
        self.first_audio_s: float | None = None
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.sent: list[str] = []
        self.audio_s = 0.0
        self.unplayed: dict[str, float] = {}  # mark -> seconds of audio the peer has not played yet
        self._progress = asyncio.Event()
        self.task = asyncio.create_task(self._run())
        self.task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        if not task.cancelled():
            self.s._after_playback()

    def add(self, sentence: str) -> None:
        self.sent.append(sentence)
        # The first words of a reply go out in a short piece: the caller hears something sooner.
        for piece in speakable_pieces(sentence, max_chars=60 if len(self.sent) == 1 else 110):
            self.queue.put_nowait(piece)

    def finish(self) -> None:
        self.queue.put_nowait(None)

    def drop_pending(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()

    def played(self, mark: str) -> None:
        if self.unplayed.pop(mark, None) is not None:
            self._progress.set()

    async def _pace(self) -> None:
        """Stay at most LOOKAHEAD_S ahead of playback: synthesis of a long answer is spread over its
        playback instead of competing, all at once, with other calls' first words. A peer that sends
        no marks is assumed to play in real time."""
        while (ahead := sum(self.unplayed.values())) > LOOKAHEAD_S:
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), timeout=ahead - LOOKAHEAD_S + 0.05)
            except TimeoutError:
                self.unplayed.pop(next(iter(self.unplayed)), None)

    async def _run(self) -> None:
        s = self.s
        while (sentence := await self.queue.get()) is not None:
            await self._pace()
            try:
                audio = await asyncio.to_thread(s.stack.tts.synthesize_all, sentence)
            except Exception:  # a sentence Piper cannot say is skipped, the call goes on
                log.exception("speech synthesis failed")
                continue
            if len(audio.pcm16) == 0:
                continue
            if self.first_audio_s is None and self.t0 is not None:
                self.first_audio_s = round(time.perf_counter() - self.t0, 3)
            s._mark_n += 1
            mark = f"m{s._mark_n}"
            s._marks[mark] = sentence
            self.audio_s += audio.duration_s
            self.unplayed[mark] = audio.duration_s
            await s.out.play(audio.pcm16, audio.sample_rate, mark)

    @property
    def done(self) -> bool:
        return self.task.done()
