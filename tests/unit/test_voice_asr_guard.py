"""Whisper's loop and silence rules (voice/whisper_decode.py) against a scripted decoder."""

from dataclasses import dataclass, field

from voice.whisper_decode import DecodeGuard, compression_ratio, cut_loops, decode, find_loop

EOT = 1000
THANKS = [11, 12, 13]  # " Thank", " you", "."


@dataclass
class _Result:
    sequences_ids: list[list[int]]
    scores: list[float]
    no_speech_prob: float


@dataclass
class _Decoder:
    """Answers each temperature from a script: {temperature: (ids, score, no_speech_prob)}."""

    script: dict[float, tuple[list[int], float, float]]
    asked: list[float] = field(default_factory=list)

    def generate(self, enc, prompts, **opts):
        t = opts.get("sampling_temperature", 0.0)
        self.asked.append(t)
        ids, score, nsp = self.script[t]
        return [_Result([ids + [EOT]], [score], nsp)]


def _decode(decoder, guard=None):
    return decode(decoder, None, [1, 2], eot=EOT, decode_text=lambda ids: " ".join(map(str, ids)), beam_size=1,
                  max_length=100, guard=guard or DecodeGuard())


def test_a_short_phrase_said_four_times_is_a_loop_and_is_cut_to_one_copy():
    assert find_loop(THANKS * 4) == (0, 3)
    assert cut_loops(THANKS * 4) == THANKS
    assert cut_loops([7, 8] + THANKS * 3 + [9]) == [7, 8] + THANKS + [9]
    assert compression_ratio(" ".join(["Thank you."] * 4)) < 2.4  # why the gzip rule alone misses it


def test_speech_that_repeats_once_or_not_at_all_is_kept():
    assert find_loop([5, 6, 5, 6, 7]) is None  # "yes please yes please" is speech
    assert find_loop([1, 2, 3, 4, 5, 6]) is None
    assert cut_loops([1, 1, 1, 2]) == [1, 1, 1, 2]  # one token repeated is not a phrase


def test_a_looping_decode_falls_back_to_a_higher_temperature():
    d = _Decoder({0.0: (THANKS * 4, -0.1, 0.01), 0.2: (THANKS, -0.2, 0.01)})
    out = _decode(d)
    assert out.ids == THANKS and out.temperature == 0.2 and d.asked == [0.0, 0.2]


def test_a_decode_that_runs_to_the_length_bound_is_a_loop_even_said_only_twice():
    twice = [21, 22, 23, 24] * 2
    d = _Decoder({t: (list(range(100, 198)), -0.1, 0.01) if t < 0.6 else (twice, -0.2, 0.01) for t in DecodeGuard().temperatures})
    out = _decode(d)  # max_length 100 - a 2-token prompt: 98 tokens is the bound
    assert out.ids == twice and d.asked == [0.0, 0.2, 0.4, 0.6]
    stuck = _Decoder({t: (twice * 12 + [21, 22], -0.1, 0.01) for t in DecodeGuard().temperatures})
    assert _decode(stuck).ids == [21, 22, 23, 24]


def test_when_every_temperature_loops_the_best_decode_is_kept_with_its_loop_cut():
    d = _Decoder({t: (THANKS * 4, -0.1 - t, 0.01) for t in DecodeGuard().temperatures})
    out = _decode(d)
    assert out.ids == THANKS and out.temperature == 0.0 and len(d.asked) == len(DecodeGuard().temperatures)


def test_improbable_text_over_likely_silence_is_silence():
    d = _Decoder({0.0: ([42, 43], -1.6, 0.9)})
    out = _decode(d)
    assert out.silent and out.ids == [] and d.asked == [0.0]


def test_a_confident_decode_is_taken_at_once():
    d = _Decoder({0.0: ([21, 22, 23], -0.3, 0.02)})
    out = _decode(d)
    assert out.ids == [21, 22, 23] and not out.silent and d.asked == [0.0]


def test_improbable_speech_is_retried_and_the_most_probable_attempt_wins():
    script = {t: ([30 + int(10 * t)], -2.0 + t / 10, 0.1) for t in DecodeGuard().temperatures}
    out = _decode(_Decoder(script))
    assert out.ids == [40] and out.temperature == 1.0  # every attempt stayed under -1.0; the best is kept


def test_real_whisper_on_short_and_multi_sentence_speech_neither_loops_nor_stops_early():
    """Piper speech through the production WhisperASR: a short prompt once, and every sentence of a longer clip."""
    import numpy as np
    import pytest

    pytest.importorskip("faster_whisper")
    pytest.importorskip("piper")
    from pathlib import Path

    from voice.asr import WhisperASR, resolve_whisper
    from voice.audio import resample
    from voice.tts import PiperTTS, packaged_piper_voice

    tts = PiperTTS(*packaged_piper_voice())
    asr = WhisperASR(resolve_whisper("tiny.en", Path("/nonexistent")))

    def speak(text):
        s = tts.synthesize_all(text)
        return resample(s.pcm16.astype(np.float32) / 32768, s.sample_rate, 16000)

    short = asr.transcribe(speak("Thank you.")).text.lower()
    assert short.count("thank") == 1, short
    gap = np.zeros(16000, np.float32)
    parts = ["Please enter your account number.", "Thank you.", "What is the monthly fee?", "Goodbye."]
    audio = np.concatenate([x for p in parts for x in (speak(p), gap)])
    text = asr.transcribe(audio).text.lower()
    assert all(w in text for w in ("account", "thank", "fee", "goodbye")), text
