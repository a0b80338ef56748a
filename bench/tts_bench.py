"""TTS figures: Piper real-time factor on one core, time to first audio of a reply, normalisation cost.

    .venv/bin/python bench/tts_bench.py [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPLIES = [
    "The Everyday Checking monthly maintenance fee is $10. It is waived when you keep a $500 minimum daily balance.",
    "Our routing number is 000111222.",
    "The domestic wire cut-off time is 4:00 p.m. ET. Wires received after the cut-off are sent the next business day.",
    "High-Yield Savings pays 4.10% APY on balances of $1,000 or more.",
    "You can withdraw up to $1,000 a day at an ATM with your debit card. Never share your PIN with anyone.",
    "Report an unauthorized electronic transfer within 60 days of the statement date, for example the statement of 03/15/2025.",
    "I'm sorry, I don't have information about that in our knowledge base. Would you like me to connect you with one of our agents?",
    "Thank you for calling Larkspur Bank. I'm the virtual assistant. How can I help you today?",
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()
    from voice.normalize import normalize_for_speech
    from voice.sentences import split_sentences
    from voice.tts import PiperTTS, packaged_piper_voice

    t0 = time.perf_counter()
    tts = PiperTTS(*packaged_piper_voice(), threads=1)
    load_s = time.perf_counter() - t0
    tts.synthesize_all("Warm up.")
    audio_s = synth_s = 0.0
    first: list[float] = []
    for _ in range(args.rounds):
        for reply in REPLIES:
            t0 = time.perf_counter()
            for i, sentence in enumerate(split_sentences(reply)):
                s = tts.synthesize_all(sentence)
                if i == 0:
                    first.append(time.perf_counter() - t0)
                audio_s += s.duration_s
            synth_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(100):
        for reply in REPLIES:
            normalize_for_speech(reply)
    norm_ms = (time.perf_counter() - t0) / (100 * len(REPLIES)) * 1000
    first.sort()
    result = {"voice": tts.name, "sample_rate": tts.sample_rate, "load_s": round(load_s, 2),
              "audio_s": round(audio_s, 1), "rtf": round(synth_s / audio_s, 4),
              "first_sentence_p50_s": round(first[len(first) // 2], 3), "first_sentence_max_s": round(first[-1], 3),
              "normalise_ms_per_reply": round(norm_ms, 3)}
    print(f"Piper {tts.name} ({tts.sample_rate} Hz, 1 thread): load {result['load_s']} s, "
          f"{result['audio_s']} s of speech, RTF {result['rtf']:.4f}; first sentence p50 "
          f"{result['first_sentence_p50_s']} s, max {result['first_sentence_max_s']} s; "
          f"normalisation {result['normalise_ms_per_reply']} ms a reply")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
