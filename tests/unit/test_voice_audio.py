"""G.711 mu-law against libsndfile's codec (and audioop where Python still has it), resampling, decoding."""

import importlib.util
import io

import numpy as np
import pytest

sf = pytest.importorskip("soundfile")
pytest.importorskip("soxr")

from voice.audio import (  # noqa: E402
    AudioTooLong,
    CorruptAudio,
    StreamResampler,
    UnsupportedAudio,
    decode_audio,
    pcm16_to_float,
    resample,
    ulaw_decode,
    ulaw_encode,
    wav_bytes,
)

ALL_PCM = np.arange(-32768, 32768, dtype=np.int16)
ALL_ULAW = bytes(range(256))


def test_ulaw_encode_matches_libsndfile_for_every_sample():
    ref = io.BytesIO()
    sf.write(ref, ALL_PCM, 8000, format="RAW", subtype="ULAW")
    assert ulaw_encode(ALL_PCM) == ref.getvalue()


def test_ulaw_decode_matches_libsndfile_for_every_byte():
    ref, _ = sf.read(io.BytesIO(ALL_ULAW), dtype="int16", format="RAW", subtype="ULAW", samplerate=8000, channels=1)
    assert np.array_equal(ulaw_decode(ALL_ULAW), ref)


@pytest.mark.skipif(importlib.util.find_spec("audioop") is None, reason="audioop was removed in Python 3.13")
def test_ulaw_decode_matches_audioop():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    assert np.array_equal(ulaw_decode(ALL_ULAW), np.frombuffer(audioop.ulaw2lin(ALL_ULAW, 2), dtype=np.int16))


def test_ulaw_round_trip_error_is_within_one_quantisation_step():
    back = ulaw_decode(ulaw_encode(ALL_PCM)).astype(np.int32)
    err = np.abs(back - ALL_PCM.astype(np.int32))
    assert err.max() <= 1024 and err[np.abs(ALL_PCM.astype(np.int32)) < 256].max() <= 8


def _sine(freq: float, rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(x: np.ndarray, rate: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spec) * rate / len(x))


@pytest.mark.parametrize("src,dst", [(8000, 16000), (22050, 16000), (16000, 8000), (22050, 8000), (48000, 16000)])
def test_resample_keeps_length_ratio_and_pitch(src, dst):
    y = resample(_sine(440, src), src, dst)
    assert abs(len(y) - dst) <= 2
    assert abs(_peak_hz(y, dst) - 440) < 3


def test_stream_resampler_matches_one_shot_without_edge_clicks():
    x = _sine(300, 8000, 2.0)
    stream = StreamResampler(8000, 16000)
    parts = [stream(x[i : i + 160]) for i in range(0, len(x), 160)] + [stream(np.zeros(0, np.float32), last=True)]
    y = np.concatenate(parts)
    ref = resample(x, 8000, 16000)
    n = min(len(y), len(ref)) - 200
    assert abs(len(y) - len(ref)) <= 4
    # frame edges every 20 ms would show up as spikes in the difference if state were lost
    assert np.abs(y[200:n] - ref[200:n]).max() < 0.02


def _encoded(fmt: str, subtype: str | None = None, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, _sine(440, rate), rate, format=fmt, subtype=subtype)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,subtype,rate", [("WAV", "PCM_16", 16000), ("WAV", "ULAW", 8000), ("FLAC", None, 44100),
                                              ("OGG", "VORBIS", 22050), ("WAV", "FLOAT", 48000)])
def test_decode_audio_formats_to_16k_mono(fmt, subtype, rate):
    audio = decode_audio(_encoded(fmt, subtype, rate))
    assert audio.source_rate == rate and abs(audio.duration_s - 1.0) < 0.02
    assert abs(_peak_hz(audio.samples, 16000) - 440) < 3


def test_decode_raw_mulaw_by_content_type():
    ulaw = ulaw_encode((_sine(440, 8000) * 32767).astype(np.int16))
    audio = decode_audio(ulaw, "audio/basic")
    assert audio.source_format == "mulaw" and abs(audio.duration_s - 1.0) < 0.01


def test_unsupported_and_corrupt_audio_are_told_apart():
    with pytest.raises(UnsupportedAudio):
        decode_audio(b"this is not audio at all, just some text " * 10, "audio/wav")
    with pytest.raises(CorruptAudio):
        decode_audio(b"")
    wav = _encoded("WAV", "PCM_16")
    with pytest.raises((CorruptAudio, UnsupportedAudio)):
        decode_audio(wav[:30])  # header cut short


def _silence(fmt: str, seconds: float, rate: int = 8000, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", rate, channels, format=fmt) as f:
        for _ in range(int(seconds)):  # a second a write: libsndfile's Vorbis encoder crashes on one large write
            f.write(np.zeros((rate, channels), np.int16))
        f.write(np.zeros((int((seconds % 1) * rate), channels), np.int16))
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["FLAC", "OGG"])
def test_a_small_file_holding_long_audio_is_refused_before_it_is_decoded(fmt):
    """Ten minutes of silence compress to a few kilobytes; decoding them would take 19 MB of float32."""
    import tracemalloc

    bomb = _silence(fmt, 600)
    assert len(bomb) < 300_000
    tracemalloc.start()
    try:
        with pytest.raises(AudioTooLong, match="limit of 60 s"):
            decode_audio(bomb, max_s=60)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000, f"{peak} bytes allocated while refusing"
    assert abs(decode_audio(_silence(fmt, 59), max_s=60).duration_s - 59) < 0.05  # under the limit: decoded


def test_raw_mulaw_and_channel_bombs_are_refused():
    with pytest.raises(AudioTooLong):
        decode_audio(b"\xff" * 8000 * 61, "audio/basic", max_s=60)
    with pytest.raises(CorruptAudio, match="channels"):
        decode_audio(_silence("WAV", 0.1, channels=64), max_s=60)


def test_wav_bytes_round_trip():
    pcm = (_sine(440, 22050) * 32767).astype(np.int16)
    back, rate = sf.read(io.BytesIO(wav_bytes(pcm, 22050)), dtype="int16")
    assert rate == 22050 and np.array_equal(back, pcm)
    assert pcm16_to_float(pcm.tobytes()).dtype == np.float32
