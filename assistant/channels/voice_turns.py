"""The caller's turns, one at a time: ASR (maybe started early) -> the dialogue pipeline -> the reply,
spoken sentence by sentence as it streams. A failure anywhere in a turn (ASR, the pipeline, storage)
becomes an apology the caller hears, an error event and a stored note; the call goes on.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from assistant.analytics.csat import asks_survey
from assistant.channels.voice_types import AudioOut, SessionConfig, SessionServices, TurnPhase
from assistant.core.events import Reply, ReplyDelta, UserTurn
from assistant.throttle import Limited
from voice.sentences import SentenceChunker, unspoken_remainder

if TYPE_CHECKING:
    import numpy as np

    from assistant.channels.voice_playback import Playback, Utterance
    from assistant.channels.voice_store import CallStore
    from voice.asr import ASR, Transcript

log = logging.getLogger(__name__)
Spawn = Callable[[Coroutine[Any, Any, Any]], asyncio.Task]


class Turns:
    """`tail(reply)`: words to add after a reply (a keypad prompt, the survey question);
    `transfer(reason)`: the reply handed the call to an agent."""

    def __init__(self, *, asr: ASR, services: SessionServices, cfg: SessionConfig, playback: Playback,
                 store: CallStore, out: AudioOut, spawn: Spawn, tail: Callable[[Reply], str | None],
                 transfer: Callable[[str], Awaitable[None]]) -> None:
        self.asr, self.services, self.cfg, self.playback, self.store, self.out = asr, services, cfg, playback, store, out
        self._spawn, self._tail, self._transfer = spawn, tail, transfer
        self.task: asyncio.Task | None = None
        self.phase = TurnPhase.IDLE
        self.audio: np.ndarray | None = None  # the current turn's audio (joined to the next if cut off in ASR)
        self.metrics: list[dict] = []

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def pipeline_open(self) -> bool:
        return self.busy and self.phase is TurnPhase.PIPELINE

    def start_audio(self, audio: np.ndarray, early: asyncio.Task | None) -> None:
        self.audio, t0 = audio, time.perf_counter()
        self.task = self._spawn(self._guarded(self._answer(audio, t0, early), t0))

    def start_text(self, text: str) -> None:
        """A turn whose words came from the keypad ("yes", a code): the pipeline as if transcribed."""
        if self.busy:
            return  # one turn at a time; the caller can press again
        t0 = time.perf_counter()
        self.task = self._spawn(self._guarded(self._text(text, t0), t0))

    async def _text(self, text: str, t0: float) -> None:
        self.phase = TurnPhase.PIPELINE
        await self._respond(text, t0, {"speech_s": 0.0, "keypad": True})

    async def _guarded(self, turn: Awaitable[None], t0: float) -> None:
        try:
            await turn
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self.failed(exc, t0)

    async def failed(self, exc: Exception, t0: float) -> None:
        """The apology for a failed turn; the type and place are logged, never the message (it may quote the caller)."""
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        log.error("voice turn failed: %s at %s:%s", type(exc).__name__, frame.filename, frame.lineno)
        self.phase = TurnPhase.DONE
        self.playback.stop_synthesis()  # what was already sent plays out; the rest of the reply is dropped
        await self.out.notify({"type": "error", "detail": "this turn failed; please say it again"})
        try:
            await self.store.note(f"The assistant failed to answer this turn ({type(exc).__name__}).", "turn_error")
        except Exception:  # the store may be what failed; the apology still plays
            log.error("voice turn failure could not be noted")
        self.playback.say(self.cfg.prompts.apology, t0)

    async def _answer(self, audio: np.ndarray, t0: float, early: asyncio.Task | None) -> None:
        self.phase = TurnPhase.ASR
        metric: dict = {"speech_s": round(len(audio) / 16000, 2), "early_asr": early is not None}
        tr: Transcript = await early if early is not None else await asyncio.to_thread(self.asr.transcribe, audio)
        metric["asr_s"] = tr.processing_s
        await self.out.notify({"type": "transcript", "text": tr.text, "language": tr.language,
                               "duration_s": tr.duration_s, "processing_s": tr.processing_s})
        if not tr.text.strip():  # an empty transcript is a clarifying question, not a turn
            self.phase = TurnPhase.DONE
            self.playback.say(self.cfg.prompts.not_heard, t0)
            return
        self.phase = TurnPhase.PIPELINE
        await self._respond(tr.text, t0, metric)

    async def _stream(self, text: str, utt: Utterance) -> tuple[Reply | None, str]:
        """The pipeline's events: each finished sentence goes to `utt` as it streams. (final reply, streamed text)"""
        chunker, streamed, final = SentenceChunker(), "", None
        async for ev in self.services.pipeline.run(UserTurn(text, self.cfg.channel, self.store.conversation_id)):
            if isinstance(ev, ReplyDelta):
                streamed += ev.text
                for sentence in chunker.feed(ev.text):
                    utt.add(sentence)
            elif isinstance(ev, Reply):
                final = ev
        return final, streamed

    async def _respond(self, text: str, t0: float, metric: dict) -> None:
        """The pipeline's reply to one caller turn, spoken sentence by sentence as it streams."""
        utt = self.playback.begin(t0)
        try:
            final, streamed = await self._stream(text, utt)
        except Limited:  # turns per conversation (assistant/throttle.py): said, not a silent failure
            utt.add_text(self.cfg.prompts.slow_down)
            utt.finish()
            self.phase = TurnPhase.DONE
            return
        self.phase = TurnPhase.DONE
        if final is None:
            return
        if not " ".join(final.text.split()).startswith(" ".join(streamed.split())):
            utt.drop_pending()  # the guard replaced the streamed answer: its unsaid sentences go
        for sentence in unspoken_remainder(final.text, utt.sent):
            utt.add(sentence)
        utt.add_text(self._tail(final) or "")
        utt.finish()
        metric.update(path=final.path, pipeline_ms=final.latency_ms)
        await self.out.notify({"type": "reply", "text": final.text, "path": final.path,
                               "citations": [c.doc_id for c in final.citations], "survey": asks_survey(final)})
        if final.handoff is not None and final.handoff.active and final.path != "human":
            await self._transfer(final.handoff.reason)
        await asyncio.shield(utt.task)
        metric["first_audio_s"] = utt.first_audio_s
        self.metrics.append(metric)
        log.info("voice turn: %s", metric)
