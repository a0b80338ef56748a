"""The loaded voice models a process shares: ASR, TTS and the VAD (each on one thread)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from voice.asr import ASR, BANKING_PROMPT, WhisperASR, resolve_whisper
from voice.tts import TTS, PiperTTS, packaged_piper_voice
from voice.vad import SileroVAD, TurnConfig

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
