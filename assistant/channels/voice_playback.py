"""What the caller hears: the utterance being spoken, its marks, and the sentences whose mark came back.

An `Utterance` synthesises its sentences in order, the next while the previous plays, and sends each
with a mark; the peer echoes the mark when that audio has played, and `Playback` then counts the
sentence as heard. A mark echoed after `clear` was dropped, not heard (e.g. Twilio returns the marks
of the audio it discarded on a barge-in).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from voice.sentences import speakable_pieces, split_sentences

if TYPE_CHECKING:
    from assistant.channels.voice_types import AudioOut
    from voice.tts import SpeechAudio

log = logging.getLogger(__name__)
LOOKAHEAD_S = 4.0  # seconds of synthesized speech kept queued at the peer ahead of playback


class Synthesizer(Protocol):
    """What playback needs of the TTS (voice.tts.PiperTTS implements it)."""

    def synthesize_all(self, text: str) -> SpeechAudio: ...


class Playback:
    """One call's speaking side. `on_idle` runs when an utterance has been sent and every mark came back."""

    def __init__(self, tts: Synthesizer, out: AudioOut, on_idle: Callable[[], None]) -> None:
        self.tts, self.out, self.on_idle = tts, out, on_idle
        self.utt: Utterance | None = None
        self._marks: dict[str, str] = {}  # mark -> sentence, sent and not yet played
        self._heard: list[str] = []
        self._mark_n = 0

    @property
    def speaking(self) -> bool:
        return bool(self._marks) or (self.utt is not None and not self.utt.done)

    @property
    def heard(self) -> str:
        """The sentences of the current utterance that the caller heard, in order."""
        return " ".join(self._heard)

    def sentence(self, mark: str) -> str | None:
        """The sentence sent with `mark`, while it has not played."""
        return self._marks.get(mark)

    def begin(self, t0: float | None = None) -> Utterance:
        """A new utterance, streamed sentence by sentence (`add`, then `finish`)."""
        self._heard = []
        self.utt = Utterance(self, t0)
        return self.utt

    def say(self, text: str, t0: float | None = None) -> Utterance:
        utt = self.begin(t0)
        for sentence in split_sentences(text):
            utt.add(sentence)
        utt.finish()
        return utt

    def sent(self, sentence: str) -> str:
        """A new mark for `sentence`, about to be sent after its audio."""
        self._mark_n += 1
        mark = f"m{self._mark_n}"
        self._marks[mark] = sentence
        return mark

    def played(self, mark: str) -> bool:
        """The peer played everything up to this mark; True when that was a sentence the caller heard."""
        sentence = self._marks.pop(mark, None)
        if self.utt is not None:
            self.utt.played(mark)
        if sentence is None:
            return False  # a mark echoed after clear: its audio was dropped, not heard
        self._heard.append(sentence)
        return True

    def stop_synthesis(self) -> None:
        """What was already sent plays out; the rest of the utterance is dropped."""
        if self.utt is not None:
            self.utt.task.cancel()

    def forget(self) -> None:
        """After `clear`: nothing is pending at the peer any more."""
        self._marks.clear()
        self.utt = None


class Utterance:
    """Sentences the bot says in order; synthesis of the next overlaps playback of the previous."""

    def __init__(self, playback: Playback, t0: float | None) -> None:
        self.playback, self.t0 = playback, t0
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
            self.playback.on_idle()

    def add(self, sentence: str) -> None:
        self.sent.append(sentence)
        # The first words of a reply go out in a short piece: the caller hears something sooner.
        for piece in speakable_pieces(sentence, max_chars=60 if len(self.sent) == 1 else 110):
            self.queue.put_nowait(piece)

    def add_text(self, text: str) -> None:
        for sentence in split_sentences(text):
            self.add(sentence)

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
        p = self.playback
        while (sentence := await self.queue.get()) is not None:
            await self._pace()
            try:
                audio = await asyncio.to_thread(p.tts.synthesize_all, sentence)
            except Exception:  # a sentence Piper cannot say is skipped, the call goes on
                log.exception("speech synthesis failed")
                continue
            if len(audio.pcm16) == 0:
                continue
            if self.first_audio_s is None and self.t0 is not None:
                self.first_audio_s = round(time.perf_counter() - self.t0, 3)
            mark = p.sent(sentence)
            self.audio_s += audio.duration_s
            self.unplayed[mark] = audio.duration_s
            await p.out.play(audio.pcm16, audio.sample_rate, mark)

    @property
    def done(self) -> bool:
        return self.task.done()
