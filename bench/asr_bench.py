"""ASR figures: real-time factor (one core) and WER, on generated clips and on real recorded speech.

    .venv/bin/python bench/asr_bench.py [--asterisk N] [--models tiny.en,base] [--json out.json]
    taskset -c 1 .venv/bin/python bench/asr_bench.py --paths plain,route,phone [--holdout] [--asr window=full]

Generated: banking questions spoken by Piper (22.05 kHz -> 16 kHz, and through the phone
path: 8 kHz mu-law). Real (bench/asr_real.py): Asterisk's English prompts, CMU Sphinx test
recordings (LibriVox read speech and two other speakers), and two-speaker calls built from
them; the Debian packages are installed when apt can. WER is computed after speech
normalisation of both sides ("$10" and "ten dollars" are the same words).

`--paths` hears each real recording three ways (bench/asr_paths.py): faster-whisper as shipped
(beam 5, no VAD), through POST /v1/asr, and through the phone path (mu-law, VAD turns), with
the production WhisperASR settings or those given by `--asr key=value,...`. It scores the dev
part (about 70 %); `--holdout` scores the held-out part instead: run it once, at the end.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.config import offline_environment  # noqa: E402

offline_environment()

from voice.audio import PHONE_RATE, float_to_pcm16, pcm16_to_float, resample, ulaw_decode, ulaw_encode  # noqa: E402
from voice.normalize import normalize_for_speech  # noqa: E402

QUESTIONS = [
    "What is the monthly maintenance fee for Everyday Checking?", "How can I avoid the monthly fee?",
    "What APY does High-Yield Savings pay?", "What is the penalty for withdrawing a CD early?",
    "How much cash can I take out at an ATM per day?", "Is there a foreign transaction fee on my debit card?",
    "How much does an outgoing international wire cost?", "What time is the cut-off for domestic wires?",
    "I lost my debit card and I need a new one.", "I want to dispute a charge on my credit card.",
    "What is your routing number?", "How do I reset my online banking password?",
    "What are the branch hours on Saturday?", "How much does a replacement card cost?",
    "What is the APR on the cash rewards credit card?", "Can I change my PIN at an ATM?",
    "When will funds from a check deposit be available?", "How much deposit insurance does the FDIC provide?",
    "How long does an ACH transfer take?", "I would like to speak to an agent please.",
    "Please freeze my card, I think it was stolen.", "What is the overdraft fee?",
    "How do I set up direct deposit?", "Can I open a savings account online?",
    "What is the minimum deposit to open a CD?", "How do I send money with Zelle?",
    "My card was declined at the store, why?", "Where can I find my account number?",
    "How do I order new checks?", "What is the interest rate on a twelve month CD?",
]


# Written forms of the same spoken words ("Mr." is "mister", "I'm" is "I am", "*" is "star").
SAME_WORDS = {"mr": "mister", "mrs": "missus", "ok": "okay", "dr": "doctor", "i'm": "i am", "you're": "you are",
              "we're": "we are", "they're": "they are", "it's": "it is", "that's": "that is", "there's": "there is",
              "what's": "what is", "let's": "let us", "i'll": "i will", "you'll": "you will", "we'll": "we will",
              "i've": "i have", "you've": "you have", "don't": "do not", "doesn't": "does not", "isn't": "is not",
              "can't": "cannot", "won't": "will not", "touchtone": "touch tone"}


def words(text: str) -> list[str]:
    text = normalize_for_speech(text.replace("*", " star ").replace("#", " pound ")).lower().replace("-", " ")
    return " ".join(SAME_WORDS.get(w, w) for w in re.sub(r"[^a-z' ]+", " ", text).split()).split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def generated_clips(phone: bool) -> list[tuple[str, np.ndarray]]:
    from voice.tts import PiperTTS, packaged_piper_voice

    tts = PiperTTS(*packaged_piper_voice())
    clips = []
    for q in QUESTIONS:
        s = tts.synthesize_all(q)
        x = pcm16_to_float(s.pcm16)
        if phone:  # the telephone path: 8 kHz mu-law, then back up to 16 kHz
            x = pcm16_to_float(ulaw_decode(ulaw_encode(float_to_pcm16(resample(x, s.sample_rate, PHONE_RATE)))))
            clips.append((q, resample(x, PHONE_RATE, 16000)))
        else:
            clips.append((q, resample(x, s.sample_rate, 16000)))
    return clips


def run(asr, clips) -> dict:
    asr.transcribe(clips[0][1])  # warm-up
    errors = n_words = 0
    audio_s = proc_s = 0.0
    for ref, audio in clips:
        t0 = time.perf_counter()
        hyp = asr.transcribe(audio).text
        proc_s += time.perf_counter() - t0
        audio_s += len(audio) / 16000
        r = words(ref)
        errors += edit_distance(r, words(hyp))
        n_words += len(r)
    return {"clips": len(clips), "audio_s": round(audio_s, 1), "rtf": round(proc_s / audio_s, 4),
            "per_clip_s": round(proc_s / len(clips), 3), "wer": round(errors / max(1, n_words), 4)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--asterisk", type=int, default=120, help="how many Asterisk prompts")
    ap.add_argument("--models", default="tiny.en,base")
    ap.add_argument("--json")
    ap.add_argument("--paths", help="plain,route,phone: real recordings heard three ways")
    ap.add_argument("--calls", type=int, default=14, help="two-speaker calls built for dev (and 30/70 of that for holdout)")
    ap.add_argument("--holdout", action="store_true", help="score the held-out 30 %% (once, at the end)")
    ap.add_argument("--asr", default="", help="WhisperASR keyword options for route and phone, e.g. window=full,beam_size=5")
    ap.add_argument("--dump", help="write every transcript to this JSON file")
    args = ap.parse_args()
    from voice.asr import WhisperASR, resolve_whisper

    cache = Path.home() / ".cache" / "bankassist" / "models"
    if args.paths:
        from bench.asr_compare import compare

        return compare(args)
    from bench.asr_real import asterisk

    sets = {"generated-16k": generated_clips(False), "generated-phone-8k": generated_clips(True),
            "asterisk-8k-real": [(c.text, resample(c.audio, c.rate, 16000)) for c in asterisk(args.asterisk)]}
    results = []
    configs = [("fit", 1, True), ("full", 1, True), ("fit", 1, False), ("fit", 5, True)]
    for model in args.models.split(","):
        try:
            path = resolve_whisper(model, cache)
        except Exception as exc:
            print(f"{model}: {exc}", file=sys.stderr)
            continue
        for window, beam, prompt in configs if model == "tiny.en" else configs[:2]:
            asr = WhisperASR(path, window=window, beam_size=beam, **({} if prompt else {"initial_prompt": None}))
            for name, clips in sets.items():
                if not clips:
                    continue
                r = {"model": model, "window": window, "beam": beam, "prompt": prompt, "set": name, **run(asr, clips)}
                results.append(r)
                print(f"{model:8s} window={window:4s} beam={beam} prompt={'y' if prompt else 'n'} {name:20s} "
                      f"clips={r['clips']:3d} audio={r['audio_s']:6.1f}s RTF={r['rtf']:.4f} "
                      f"per-clip={r['per_clip_s']:.3f}s WER={r['wer']:.3f}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
