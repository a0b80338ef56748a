"""Audio codecs and conversions: G.711 mu-law, PCM16, resampling, decoding uploads, WAV.

mu-law is the telephone codec (8 kHz, one byte a sample). `audioop` did this until it was
removed in Python 3.13, so the codec here is numpy, checked in the tests against
libsndfile's own mu-law encoder and decoder. Resampling uses soxr (libsoxr), which also
streams: a call's 20 ms frames are resampled without clicks at the frame edges.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import numpy as np

ASR_RATE = 16000  # what VAD and Whisper take
PHONE_RATE = 8000

_BIAS = 0x84
_CLIP = 32635
# Exponent (segment) of each 8-bit magnitude bucket: position of the highest set bit above bit 7.
_SEGMENT = np.array([0, 0, 1, 1] + [2] * 4 + [3] * 8 + [4] * 16 + [5] * 32 + [6] * 64 + [7] * 128, dtype=np.int32)


def _decode_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


_ULAW_TO_PCM = _decode_table()


def ulaw_decode(data: bytes) -> np.ndarray:
    """G.711 mu-law bytes -> int16 samples."""
    return _ULAW_TO_PCM[np.frombuffer(data, dtype=np.uint8)]


def ulaw_encode(samples: np.ndarray) -> bytes:
    """int16 samples -> G.711 mu-law bytes (ITU-T G.711, as in Sun's g711.c)."""
    pcm = np.asarray(samples, dtype=np.int32)
    sign = np.where(pcm < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(pcm), _CLIP) + _BIAS
    exponent = _SEGMENT[(magnitude >> 7) & 0xFF]
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def pcm16_to_float(samples: np.ndarray | bytes) -> np.ndarray:
    if isinstance(samples, (bytes, bytearray, memoryview)):
        samples = np.frombuffer(samples, dtype="<i2")
    return np.asarray(samples, dtype=np.float32) / 32768.0


def float_to_pcm16(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """One-shot resampling of a whole clip (float32 or int16 in, same dtype out)."""
    if src_rate == dst_rate or len(samples) == 0:
        return samples
    import soxr

    return soxr.resample(samples, src_rate, dst_rate, quality="HQ")


class StreamResampler:
    """Resamples consecutive frames of one stream, keeping the filter state between them."""

    def __init__(self, src_rate: int, dst_rate: int, dtype: str = "float32") -> None:
        self.src_rate, self.dst_rate = src_rate, dst_rate
        self._stream = None
        if src_rate != dst_rate:
            import soxr

            self._stream = soxr.ResampleStream(src_rate, dst_rate, 1, dtype=dtype, quality="HQ")

    def __call__(self, samples: np.ndarray, last: bool = False) -> np.ndarray:
        if self._stream is None:
            return samples
        return self._stream.resample_chunk(samples, last=last)


class UnsupportedAudio(ValueError):
    """Not an audio format we read (HTTP 415)."""


class CorruptAudio(ValueError):
    """A known format whose content cannot be decoded, or holds no samples (HTTP 422)."""


class AudioTooLong(ValueError):
    """Longer than the caller allows (HTTP 413); found from the header before decoding."""

    def __init__(self, max_s: float, duration_s: float | None = None) -> None:
        length = f" ({duration_s:.0f} s)" if duration_s is not None else ""
        super().__init__(f"the audio is longer than the limit of {max_s:g} s{length}")
        self.duration_s, self.max_s = duration_s, max_s


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    samples: np.ndarray  # float32 mono at ASR_RATE
    source_rate: int
    source_format: str

    @property
    def duration_s(self) -> float:
        return len(self.samples) / ASR_RATE


MULAW_TYPES = {"audio/basic", "audio/x-mulaw", "audio/mulaw", "audio/pcmu", "audio/x-ulaw"}
MAX_CHANNELS = 8
MAX_RATE = 192000


def decode_audio(data: bytes, content_type: str | None = None, filename: str | None = None, *,
                 max_s: float | None = None) -> DecodedAudio:
    """WAV (PCM, float, mu-law, A-law), FLAC, OGG/Vorbis/Opus, AU, or headerless 8 kHz mu-law.

    Headerless mu-law has no magic bytes: it is recognised by its content type
    (audio/basic, audio/x-mulaw, audio/pcmu) or a .ul/.ulaw/.mulaw file name.
    `max_s` bounds what is decoded, not just what was uploaded: a small FLAC of silence can
    hold hours. The length comes from the header before any decoding; decoding then runs a
    second at a time, mixed down to mono as it goes, and stops past the limit even if the
    header understated it. Over the limit: AudioTooLong.
    """
    if not data:
        raise CorruptAudio("the upload is empty")
    ctype = (content_type or "").split(";")[0].strip().lower()
    name = (filename or "").lower()
    if (ctype in MULAW_TYPES and data[:4] not in (b"RIFF", b".snd")) or name.endswith((".ul", ".ulaw", ".mulaw")):
        if max_s is not None and len(data) > max_s * PHONE_RATE:
            raise AudioTooLong(max_s, len(data) / PHONE_RATE)
        pcm = ulaw_decode(data)
        return DecodedAudio(resample(pcm16_to_float(pcm), PHONE_RATE, ASR_RATE), PHONE_RATE, "mulaw")
    import soundfile as sf

    try:
        f = sf.SoundFile(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise UnsupportedAudio(
            "unsupported audio format: send WAV, FLAC, OGG or 8 kHz mu-law (content type audio/basic)"
        ) from exc
    with f:
        rate, fmt = int(f.samplerate), f"{f.format}/{f.subtype}".lower()
        if not 0 < rate <= MAX_RATE or not 0 < f.channels <= MAX_CHANNELS:
            raise CorruptAudio(f"unsupported layout: {f.channels} channels at {rate} Hz "
                               f"(at most {MAX_CHANNELS} channels and {MAX_RATE} Hz)")
        cap = None if max_s is None else int(max_s * rate)
        if max_s is not None and f.frames > max_s * rate:  # frames is whole: the same test as `> cap`
            raise AudioTooLong(max_s, f.frames / rate)
        blocks, total = [], 0
        try:
            for block in f.blocks(blocksize=rate, dtype="float32", always_2d=True):
                total += len(block)
                if cap is not None and total > cap:
                    break  # the header understated the length
                blocks.append(block.mean(axis=1, dtype=np.float32))
        except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
            raise CorruptAudio(f"cannot decode this {f.format} file: it is damaged or truncated") from exc
    if max_s is not None and total > max_s * rate:
        raise AudioTooLong(max_s)
    if total == 0:
        raise CorruptAudio("the audio holds no samples")
    return DecodedAudio(resample(np.concatenate(blocks), rate, ASR_RATE), rate, fmt)


def wav_bytes(pcm16: np.ndarray, rate: int) -> bytes:
    """Mono 16-bit WAV."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(pcm16, dtype="<i2").tobytes())
    return buf.getvalue()
