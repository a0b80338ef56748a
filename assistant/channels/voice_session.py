"""One spoken conversation over any audio channel: VAD -> ASR -> dialogue pipeline -> TTS.

Transports (Twilio media streams, the browser/robot PCM socket) only move audio: they feed
16 kHz float32 frames in, and implement `AudioOut` (play audio followed by a named mark,
clear, notify, end). The session owns turn-taking: greeting, end of turn, barge-in (stop within
one VAD window after `min_speech_ms`), early ASR at a pause, partial transcripts, silence reprompts
and goodbye, the keypad (voice_keys.py), hand-off. What is spoken and heard: voice_playback.py;
the turns themselves: voice_turns.py; what is stored: voice_store.py. Every failure becomes speech
or a stored note, never a dropped call. Raw caller text is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any, Literal

import numpy as np

from assistant.channels.voice_keys import CallKeys
from assistant.channels.voice_playback import Playback
from assistant.channels.voice_store import CallStore
from assistant.channels.voice_turns import Turns
from assistant.channels.voice_types import (
    AudioOut,
    CallOutcome,
    SessionConfig,
    SessionServices,
    TurnPhase,
    VoicePrompts,
)
from assistant.core.events import Reply
from voice.stack import VoiceStack
from voice.vad import Blip, Pause, SpeechStarted, TurnDetector, TurnEnded

log = logging.getLogger(__name__)
__all__ = ["AudioOut", "CallOutcome", "SessionConfig", "VoicePrompts", "VoiceSession"]
Interruption = Literal["barge_in", "dtmf", "hangup"]


class VoiceSession:
    def __init__(self, *, stack: VoiceStack, services: SessionServices, out: AudioOut,
                 config: SessionConfig | None = None) -> None:
        self.stack, self.services, self.out = stack, services, out
        self.cfg = config or SessionConfig()
        self.detector = TurnDetector(stack.vad, stack.turn)
        self.store = CallStore(services, self.cfg.channel)
        self.playback = Playback(stack.tts, out, self._after_playback)
        self.turns = Turns(asr=stack.asr, services=services, cfg=self.cfg, playback=self.playback, store=self.store,
                           out=out, spawn=self.spawn, tail=self._reply_tail, transfer=self._transfer)
        self.keys = CallKeys(self)
        self._carry: np.ndarray | None = None  # audio of a turn cut off during ASR, joined to the next
        self._early: tuple[float, asyncio.Task] | None = None  # (speech_s at the pause, its transcription)
        self._partial: asyncio.Task | None = None
        self._last_partial_s = 0.0
        self._last_activity_s = 0.0
        self._reprompts = 0
        self._ending: CallOutcome | None = None
        self._closed = False
        self._tasks: set[asyncio.Task] = set()

    @property
    def conversation_id(self) -> str | None:
        return self.store.conversation_id

    @property
    def turn_metrics(self) -> list[dict]:
        return self.turns.metrics

    @property
    def _turn(self) -> asyncio.Task | None:
        return self.turns.task

    # --- inputs from the transport

    async def start(self, conversation_id: str | None = None) -> str:
        """Continue `conversation_id` or start one whose session token goes to a screen, if the
        transport has one (the voice page reads it back). The transport has proven the caller may
        continue it: a phone stream by its signed call token, the PCM socket by the session token."""
        repo = self.services.conversations
        ready: dict = {"type": "ready"}
        known = False
        if conversation_id:
            known = await asyncio.to_thread(repo.exists, conversation_id)
        if conversation_id and known:
            cid = conversation_id
        else:
            cid, ready["session_token"] = await asyncio.to_thread(repo.start_session, self.cfg.channel)
        self.store.conversation_id = cid
        await self.out.notify({**ready, "conversation_id": cid})
        self.say(self.cfg.prompts.greeting)
        return cid

    async def feed(self, samples: np.ndarray) -> None:
        """16 kHz float32 caller audio, any frame size."""
        if self._closed:
            return
        for ev in self.detector.feed(samples):
            if isinstance(ev, SpeechStarted):
                await self._speech_started()
            elif isinstance(ev, Pause):
                self._early_transcribe(ev)
            elif isinstance(ev, TurnEnded):
                self._turn_ended(ev)
            elif isinstance(ev, Blip):
                self._last_activity_s = self.detector.position_s
        self._maybe_partial()
        await self._check_silence()

    def played(self, mark: str) -> None:
        """The peer played everything up to this mark."""
        if self.playback.played(mark):
            self._after_playback()

    async def dtmf(self, digit: str) -> None:
        """A keypress (voice_keys.py)."""
        if not self._closed:
            await self.keys.press(digit)

    async def close(self, reason: str = "caller_hangup") -> None:
        """The caller hung up or the socket died: keep what was said, stop speaking."""
        if self._closed:
            return
        self._closed = True
        if self.speaking:
            await self._record_heard("hangup")
        self.playback.stop_synthesis()
        rest = self.detector.flush()
        for task in (self.turns.task, self._partial):
            if task is not None and not task.done():
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(task), self.cfg.close_timeout_s)
        if rest is not None:
            await self.store.unanswered(self.stack.asr, rest.audio)
        for task in list(self._tasks):
            task.cancel()
        log.info("voice call %s closed (%s) after %d turns", self.conversation_id, reason, len(self.turn_metrics))

    # --- state

    @property
    def speaking(self) -> bool:
        return self.playback.speaking

    @property
    def ending(self) -> bool:
        """The call ends (hang-up or transfer) once what is being said has played."""
        return self._ending is not None or self._closed

    def end_when_said(self, outcome: CallOutcome) -> None:
        """End the call this way once what is being said (or said next) has played."""
        self._ending = outcome

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def say(self, text: str) -> None:
        self.playback.say(text)
        self._last_activity_s = self.detector.position_s

    def _after_playback(self) -> None:
        if self.speaking or self._closed:
            return
        self._last_activity_s = self.detector.position_s
        if self._ending is not None:
            self.spawn(self._end(self._ending))

    async def _end(self, outcome: CallOutcome) -> None:
        if not self._closed:
            await self.out.end(outcome)

    # --- turn-taking

    async def _speech_started(self) -> None:
        self._last_activity_s = self.detector.position_s
        self._reprompts = 0
        await self.out.notify({"type": "speech_started"})
        if self.turns.busy and self.turns.phase is TurnPhase.ASR:
            assert self.turns.task is not None
            self.turns.task.cancel()  # the caller kept talking after a pause: one turn, not two
            self._carry = self.turns.audio
        elif self.speaking or self.turns.busy:
            await self.interrupt("barge_in")

    def _early_transcribe(self, ev: Pause) -> None:
        """Start Whisper at the first pause; if the turn ends without more speech the text is ready."""
        if self._carry is None and not self.turns.busy:
            self._early = (ev.speech_s, self.spawn(asyncio.to_thread(self.stack.asr.transcribe, ev.audio)))

    def _turn_ended(self, ev: TurnEnded) -> None:
        self.keys.survey = False  # the caller speaks again: the conversation goes on
        audio = ev.audio if self._carry is None else np.concatenate([self._carry, ev.audio])
        early = self._early[1] if self._early is not None and self._early[0] == ev.speech_s and self._carry is None else None
        self._carry, self._early = None, None
        self._last_activity_s = self.detector.position_s
        self.turns.start_audio(audio, early)

    async def interrupt(self, why: Interruption) -> None:
        """Stop talking now: clear the peer's buffer, cancel synthesis and an unfinished reply."""
        was_speaking = self.speaking
        self.playback.stop_synthesis()
        if was_speaking:
            await self.out.clear()
        pipeline_open = self.turns.pipeline_open
        if pipeline_open:
            assert self.turns.task is not None
            self.turns.task.cancel()
        if was_speaking or pipeline_open:
            await self._record_heard(why, reply_stored=not pipeline_open)
        self.playback.forget()

    async def _record_heard(self, why: Interruption, reply_stored: bool = True) -> None:
        heard = self.playback.heard
        await self.out.notify({"type": "barge_in" if why == "barge_in" else "interrupted", "heard": heard})
        if not reply_stored and heard:
            await self.store.interrupted(heard)
        else:
            await self.store.note(f"Caller interrupted ({why}); heard: {heard or 'nothing'}", "barge_in")

    def _reply_tail(self, final: Reply) -> str | None:
        return self.keys.after_reply(final)

    async def _transfer(self, reason: str) -> None:
        self._ending = CallOutcome("transfer", await self.store.open_ticket(), reason)

    def _maybe_partial(self) -> None:
        if not self.cfg.partials or not self.detector.in_turn:
            return
        if self._partial is not None and not self._partial.done():
            return
        if self.detector.position_s - self._last_partial_s < self.cfg.partial_every_s:
            return
        audio = self.detector.current_audio()
        if audio is not None:
            self._last_partial_s = self.detector.position_s
            self._partial = self.spawn(self._send_partial(audio))

    async def _send_partial(self, audio: np.ndarray) -> None:
        tr = await asyncio.to_thread(self.stack.asr.transcribe, audio)
        if tr.text and self.detector.in_turn:
            await self.out.notify({"type": "partial", "text": tr.text})

    async def _check_silence(self) -> None:
        if self.speaking or self.detector.in_turn or self.turns.busy or self.ending:
            return
        if self.detector.position_s - self._last_activity_s < self.cfg.silence_reprompt_s:
            return
        if self.keys.survey:  # no key pressed after the goodbye: end the call without a rating
            self.keys.survey = False
            self.end_when_said(CallOutcome("hangup", reason="survey_timeout"))
            self.say(self.cfg.prompts.csat_timeout)
            return
        self._reprompts += 1
        if self._reprompts > self.cfg.max_reprompts:
            self._ending = CallOutcome("hangup", reason="silence")
            await self.store.note("Call ended after repeated silence.", "silence")
            self.say(self.cfg.prompts.goodbye)
        else:
            self.say(self.cfg.prompts.reprompt)
