"""The three ways the ASR bench hears one recording.

- plain: faster-whisper's own `transcribe` as shipped (int8, beam 5, no VAD, its default
  temperature fallback and thresholds): the reference the voice path should match.
- route: `POST /v1/asr` in-process (FastAPI TestClient over the real route), the recording sent
  as a WAV file at its own sample rate; a clip over the fit window is cut into VAD turns there.
- phone: what a call does: 8 kHz mu-law in 20 ms frames, resampled to 16 kHz as it streams,
  Silero VAD + TurnDetector (the default TurnConfig), each ended turn transcribed; the turns'
  texts are joined.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from voice.asr import ASR
from voice.audio import (
    PHONE_RATE,
    StreamResampler,
    float_to_pcm16,
    pcm16_to_float,
    resample,
    ulaw_decode,
    ulaw_encode,
    wav_bytes,
)
from voice.vad import SileroVAD, TurnConfig, TurnDetector, TurnEnded


class PlainWhisper:
    """faster-whisper's `transcribe` with its defaults: beam 5, no VAD, no initial prompt."""

    def __init__(self, model_dir: Path, beam_size: int = 5) -> None:
        from faster_whisper import WhisperModel

        self.model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=1, num_workers=1)
        self.beam_size = beam_size

    def text(self, audio16k: np.ndarray) -> str:
        segments, _ = self.model.transcribe(audio16k, language="en", beam_size=self.beam_size, vad_filter=False)
        return " ".join(s.text.strip() for s in segments).strip()


class Route:
    """POST /v1/asr on the real route, in-process, with `asr` as the app's recogniser."""

    def __init__(self, asr: ASR) -> None:
        from fastapi import FastAPI
        from fastapi.testclient import TestClient

        from assistant.api.routes.voice import router
        from assistant.config import Settings

        app = FastAPI()
        app.include_router(router)
        app.state.settings = Settings()
        voice = SimpleNamespace(asr=asr, vad=SileroVAD(), turn=TurnConfig())  # as VoiceStack: the route splits long clips
        app.state.services = SimpleNamespace(voice=voice, voice_error=None)
        self.client = TestClient(app)

    def text(self, audio: np.ndarray, rate: int) -> str:
        body = wav_bytes(float_to_pcm16(audio), rate)
        r = self.client.post("/v1/asr", content=body, headers={"content-type": "audio/wav"})
        r.raise_for_status()
        return str(r.json()["text"])


class Phone:
    """The call path: mu-law frames -> streaming resampler -> VAD turns -> ASR per turn."""

    def __init__(self, asr: ASR, vad: SileroVAD | None = None, turn: TurnConfig | None = None) -> None:
        self.asr, self.vad, self.turn = asr, vad or SileroVAD(), turn or TurnConfig()
        self.turns = 0

    def text(self, audio: np.ndarray, rate: int) -> str:
        x = resample(audio, rate, PHONE_RATE) if rate != PHONE_RATE else audio
        x = np.concatenate([x, np.zeros(PHONE_RATE, np.float32)])  # the line stays open a second after
        law = ulaw_encode(float_to_pcm16(x))
        up, det = StreamResampler(PHONE_RATE, 16000), TurnDetector(self.vad, self.turn)
        texts = []
        for i in range(0, len(law), 160):  # 20 ms a media message, as Twilio sends
            frame = up(pcm16_to_float(ulaw_decode(law[i : i + 160])), last=i + 160 >= len(law))
            for ev in det.feed(frame):
                if isinstance(ev, TurnEnded):
                    texts.append(self.asr.transcribe(ev.audio).text)
        rest = det.flush()
        if rest is not None:
            texts.append(self.asr.transcribe(rest.audio).text)
        self.turns += len(texts)
        return " ".join(t.strip() for t in texts if t.strip())
