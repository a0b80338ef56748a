"""Silero VAD (the model faster-whisper ships) on synthesized speech vs silence and noise; turn detection."""

import numpy as np
import pytest

pytest.importorskip("faster_whisper")
pytest.importorskip("piper")

from tests.fakes import ScriptedVad  # noqa: E402
from voice.audio import resample  # noqa: E402
from voice.tts import PiperTTS, packaged_piper_voice  # noqa: E402
from voice.vad import WINDOW, Blip, Pause, SileroVAD, SpeechStarted, TurnConfig, TurnDetector, TurnEnded  # noqa: E402


@pytest.fixture(scope="module")
def vad():
    return SileroVAD()


@pytest.fixture(scope="module")
def speech():
    from piper import SynthesisConfig

    tts = PiperTTS(*packaged_piper_voice())
    # Piper samples its prosody noise afresh in each process; one utterance in a few dozen began
    # softly enough to move the onset past the bound below. Without the noise, every run hears the same audio.
    tts._config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    s = tts.synthesize_all("I would like to check the balance on my savings account, please.")
    return resample(s.pcm16.astype(np.float32) / 32768, s.sample_rate, 16000)


def test_speech_scores_high_silence_and_noise_low(vad, speech):
    rng = np.random.default_rng(0)
    p_speech = vad.probabilities(speech)
    assert np.mean(p_speech > 0.5) > 0.6
    assert vad.probabilities(np.zeros(32000, np.float32)).max() < 0.1
    assert vad.probabilities((rng.standard_normal(32000) * 0.01).astype(np.float32)).max() < 0.5


def test_streaming_equals_faster_whispers_batch_call(vad, speech):
    from faster_whisper.vad import SileroVADModel

    x = speech[: len(speech) // WINDOW * WINDOW]
    batch = SileroVADModel.__call__(type("M", (), {"session": vad.session})(), x).reshape(-1)
    assert np.allclose(vad.probabilities(x), batch, atol=1e-5)


def _feed(det, audio, frame=320):
    events = []
    for i in range(0, len(audio), frame):
        events += det.feed(audio[i : i + frame])
    return events


def test_turn_detector_one_turn_with_pre_roll_and_timings(vad, speech):
    det = TurnDetector(vad, TurnConfig(end_silence_ms=480))
    lead = np.zeros(16000, np.float32)
    events = _feed(det, np.concatenate([lead, speech, np.zeros(16000, np.float32)]))
    pauses = [e for e in events if isinstance(e, Pause)]
    events = [e for e in events if not isinstance(e, Pause)]
    assert [type(e) for e in events] == [SpeechStarted, TurnEnded]
    started, ended = events
    assert pauses and pauses[-1].speech_s == ended.speech_s  # early transcription saw the whole turn
    assert 0.9 < started.onset_s < 1.3 and started.at_s - started.onset_s < 0.3
    assert len(ended.audio) >= len(speech) * 0.9  # the whole utterance, pre-roll included
    assert ended.ended_at_s < 1.0 + len(speech) / 16000 + 0.1


def test_short_click_is_a_blip_not_a_turn(vad, speech):
    det = TurnDetector(vad, TurnConfig(min_speech_ms=400))
    events = _feed(det, np.concatenate([np.zeros(8000, np.float32), speech[4000:8000], np.zeros(16000, np.float32)]))
    assert not any(isinstance(e, (SpeechStarted, TurnEnded)) for e in events)
    assert any(isinstance(e, Blip) for e in events) or not events


def test_flush_returns_an_unfinished_turn(vad, speech):
    det = TurnDetector(vad)
    _feed(det, np.concatenate([np.zeros(8000, np.float32), speech[: len(speech) // 2]]))
    assert det.in_turn
    ended = det.flush()
    assert isinstance(ended, TurnEnded) and not det.in_turn


def _scripted_turn(probs, config=None):
    det = TurnDetector(ScriptedVad(probs), config or TurnConfig())
    audio = np.repeat(np.arange(len(probs), dtype=np.float32), WINDOW)
    ended = [e for e in _feed(det, audio, frame=WINDOW) if isinstance(e, TurnEnded)]
    assert len(ended) == 1
    return sorted(set(ended[0].audio[::WINDOW].astype(int)))


def test_soft_speech_before_the_start_threshold_joins_the_turn():
    # a quiet first phrase (0.3, like "eight of spades" on 8 kHz phone audio), a short gap, then clear speech
    probs = [0.0] * 30 + [0.3] * 30 + [0.05] * 8 + [0.9] * 20 + [0.0] * 30
    windows = _scripted_turn(probs)
    assert windows[0] == 30 - 10  # the soft phrase and 320 ms of pre-roll before it
    assert windows[-1] >= 88


def test_soft_sound_long_before_the_turn_stays_out():
    probs = [0.0] * 10 + [0.3] * 10 + [0.0] * 20 + [0.9] * 20 + [0.0] * 30
    assert _scripted_turn(probs)[0] == 40 - 10  # only the plain pre-roll: the soft sound ended 640 ms before


def test_without_soft_speech_the_pre_roll_is_unchanged():
    probs = [0.0] * 40 + [0.9] * 20 + [0.0] * 30
    assert _scripted_turn(probs)[0] == 30
