"""ASR figures: real-time factor (one core) and WER, on generated clips and on real recorded speech.

    .venv/bin/python bench/asr_bench.py [--asterisk N] [--models tiny.en,base] [--json out.json]

Generated: banking questions spoken by Piper (22.05 kHz -> 16 kHz, and through the phone
path: 8 kHz mu-law). Real: Asterisk's English prompts (Allison Smith, 8 kHz WAV) with the
transcripts in core-sounds-en.txt.gz; `apt-get install -y asterisk-core-sounds-en-wav`
(the bench installs it when it can). WER is computed after speech normalisation of both
sides ("$10" and "ten dollars" are the same words).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
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


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]+", " ", normalize_for_speech(text).lower().replace("-", " ")).split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def asterisk_clips(n: int) -> list[tuple[str, np.ndarray]]:
    doc = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
    sounds = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
    if not doc.exists():
        subprocess.run(["apt-get", "install", "-y", "-qq", "asterisk-core-sounds-en-wav"], capture_output=True)
    if not doc.exists():
        print("asterisk-core-sounds-en-wav not installed: skipping real speech", file=sys.stderr)
        return []
    import soundfile as sf

    out = []
    with gzip.open(doc, "rt", errors="replace") as fh:
        lines = fh.read().splitlines()
    for line in lines:
        m = re.match(r"^([\w-]+): (.+)$", line.strip())
        if not m or "[" in m.group(2) or len(m.group(2).split()) < 3:
            continue  # tones and one-word prompts say little about WER
        wav = sounds / f"{m.group(1)}.wav"
        if wav.exists():
            pcm, rate = sf.read(wav, dtype="float32")
            out.append((m.group(2), resample(pcm, rate, 16000)))
        if len(out) >= n:
            break
    return out


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
    args = ap.parse_args()
    from voice.asr import WhisperASR, resolve_whisper

    cache = Path.home() / ".cache" / "bankassist" / "models"
    sets = {"generated-16k": generated_clips(False), "generated-phone-8k": generated_clips(True),
            "asterisk-8k-real": asterisk_clips(args.asterisk)}
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
