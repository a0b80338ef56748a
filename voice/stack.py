"""The loaded voice models a process shares: ASR, TTS and the VAD (each on one thread)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from voice.asr import ASR, BANKING_PROMPT, Transcript, WhisperASR, resolve_whisper
from voice.audio import ASR_RATE
from voice.tts import TTS, PiperTTS, packaged_piper_voice
from voice.vad import SileroVAD, TurnConfig, split_turns

log = logging.getLogger(__name__)


@dataclass
class VoiceStack:
    asr: ASR
    tts: TTS
    vad: SileroVAD
    turn: TurnConfig = field(default_factory=TurnConfig)
    load_s: float = 0.0


def build_voice_stack(
    *, asr_model: str = "tiny.en", cache_dir: Path, asr_beam_size: int = 1, asr_language: str | None = "en",
    asr_window: Literal["fit", "full"] = "fit", asr_prompt: str | None = None, tts_length_scale: float | None = None,
    threads: int = 1, turn: TurnConfig | None = None,
) -> VoiceStack:
    """Raises ImportError when the [voice] extra is missing, MissingVoiceModel for a missing model package."""
    t0 = time.perf_counter()
    prompt = BANKING_PROMPT if asr_prompt is None else asr_prompt or None  # "" turns the prompt off
    asr = WhisperASR(resolve_whisper(asr_model, cache_dir), threads=threads, beam_size=asr_beam_size, language=asr_language,
                     window=asr_window, name=asr_model if "/" not in asr_model else None, initial_prompt=prompt)
    tts = PiperTTS(*packaged_piper_voice(), threads=threads, length_scale=tts_length_scale)
    stack = VoiceStack(asr=asr, tts=tts, vad=SileroVAD(threads=1), turn=turn or TurnConfig(), load_s=0.0)
    stack.load_s = round(time.perf_counter() - t0, 2)
    log.info("voice ready in %.1f s (%s, %s)", stack.load_s, asr.name, tts.name)
    return stack


def transcribe_upload(stack: VoiceStack, audio: np.ndarray) -> Transcript:
    """An uploaded clip (POST /v1/asr), heard as a call is: one decode when it fits one window, else turn by turn.

    A clip longer than the recogniser's one-utterance window (`fit_max_s`) is cut into turns with the
    call path's VAD and TurnDetector (`stack.turn`) and each turn is transcribed: Whisper given a whole
    clip with pauses, banking prompt included, may end after its first phrase (docs/decisions/0017).
    No turn found (speech too soft for the VAD): the clip is transcribed whole.
    """
    t0 = time.perf_counter()
    audio = np.asarray(audio, dtype=np.float32)
    if len(audio) / ASR_RATE <= stack.asr.fit_max_s:
        return stack.asr.transcribe(audio)
    turns = split_turns(stack.vad, audio, stack.turn)
    if not turns:
        return stack.asr.transcribe(audio)
    parts = [stack.asr.transcribe(t) for t in turns]
    text = " ".join(p.text.strip() for p in parts if p.text.strip())
    return Transcript(text, parts[0].language, round(len(audio) / ASR_RATE, 3), round(time.perf_counter() - t0, 3),
                      min(p.no_speech_prob for p in parts), float(np.mean([p.avg_logprob for p in parts])))
