"""Real recorded English speech for the ASR bench, and two-speaker "calls" built from it.

Sources (Debian packages, installed by the bench when apt can):
- `asterisk-core-sounds-en-wav`: Asterisk's telephone prompts read by one woman (Allison Smith),
  8 kHz WAV, transcripts in core-sounds-en.txt.gz.
- `pocketsphinx-testdata`: CMU Sphinx test recordings: five LibriVox read-speech sentences
  (a man, 16 kHz), five card names ("ten of clubs", another speaker) and "go forward ten meters".
- calls: Asterisk prompts alternating with a Sphinx speaker, with pauses between turns, at 8 kHz:
  a two-person-like phone recording that shows cut-off first words and invented words.

Every clip has a stable name; `held_out(name)` puts about 30 % of them aside (by the hash of the
name) so that settings chosen on the rest are checked once on audio they were not tuned on.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ASTERISK_DOC = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
ASTERISK_SOUNDS = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
SPHINX = Path("/usr/share/pocketsphinx/test/data")
HOLDOUT_PERCENT = 30
MAX_CALL_S = 45.0  # under POST /v1/asr's 60 s limit


@dataclass(frozen=True)
class Clip:
    name: str
    text: str
    audio: np.ndarray  # float32 mono at `rate`, as recorded (calls: 8 kHz)
    rate: int
    kind: str  # asterisk | sphinx | call
    holdout: bool = False


def held_out(name: str) -> bool:
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 100 < HOLDOUT_PERCENT


def _clip(name: str, text: str, audio: np.ndarray, rate: int, kind: str) -> Clip:
    return Clip(name, text, audio, rate, kind, held_out(name))


def _apt(package: str, probe: Path) -> bool:
    if not probe.exists():
        subprocess.run(["apt-get", "install", "-y", "-qq", package], capture_output=True, check=False)
    if not probe.exists():
        print(f"{package} not installed: skipping its recordings", file=sys.stderr)
    return probe.exists()


def asterisk(n: int) -> list[Clip]:
    """Prompts of at least three words (tones and one-word prompts say little about WER)."""
    if not _apt("asterisk-core-sounds-en-wav", ASTERISK_DOC):
        return []
    import soundfile as sf

    out = []
    with gzip.open(ASTERISK_DOC, "rt", errors="replace") as fh:
        lines = fh.read().splitlines()
    for line in lines:
        m = re.match(r"^([\w-]+): (.+)$", line.strip())
        if not m or "[" in m.group(2) or len(m.group(2).split()) < 3:
            continue
        wav = ASTERISK_SOUNDS / f"{m.group(1)}.wav"
        if wav.exists():
            pcm, rate = sf.read(wav, dtype="float32")
            if len(pcm) > MAX_CALL_S * rate:
                continue  # a 73 s monologue is no caller's turn (and POST /v1/asr stops at 60 s)
            out.append(_clip(f"asterisk/{m.group(1)}", m.group(2), pcm, rate, "asterisk"))
        if len(out) >= n:
            break
    return out


def _sphinx_text(line: str) -> tuple[str, str] | None:
    m = re.match(r"^<s>(.*)</s>\s*\((\S+)\)$", line.strip())
    return (m.group(2), " ".join(m.group(1).split())) if m else None


def sphinx() -> list[Clip]:
    if not _apt("pocketsphinx-testdata", SPHINX / "librivox" / "transcription"):
        return []
    import soundfile as sf

    out = []
    for folder in ("librivox", "cards"):
        for line in (SPHINX / folder / f"{'transcription' if folder == 'librivox' else 'cards.transcription'}").read_text().splitlines():
            parsed = _sphinx_text(line)
            if parsed is None:
                continue
            pcm, rate = sf.read(SPHINX / folder / f"{parsed[0]}.wav", dtype="float32")
            # "had he married a more a amiable woman": the reader's stumble is in the transcript
            out.append(_clip(f"sphinx/{folder}/{parsed[0]}", parsed[1], pcm, rate, "sphinx"))
    raw = np.fromfile(SPHINX / "goforward.raw", dtype="<i2").astype(np.float32) / 32768.0
    out.append(_clip("sphinx/goforward", "go forward ten meters", raw, 16000, "sphinx"))
    return out


def calls(first: list[Clip], second: list[Clip], n: int, seed: int, holdout: bool) -> list[Clip]:
    """Two speakers taking turns: 3-5 prompts (at most 45 s), pauses of 0.5-1.5 s, 0.3-1 s of line silence at the ends, 8 kHz.

    The two speakers alternate; consecutive calls reuse recordings in a new order.
    """
    from voice.audio import resample

    rng = np.random.default_rng(seed)
    out: list[Clip] = []
    for i in range(n):
        turns = int(rng.integers(3, 6))
        parts, texts = [np.zeros(int(rng.uniform(0.3, 1.0) * 8000), np.float32)], []
        for t in range(turns):
            pool = first if t % 2 == 0 else second
            clip = pool[int(rng.integers(len(pool)))]
            if texts and sum(map(len, parts)) / 8000 + len(clip.audio) / clip.rate > MAX_CALL_S:
                break
            parts.append(resample(clip.audio, clip.rate, 8000).astype(np.float32))
            parts.append(np.zeros(int(rng.uniform(0.5, 1.5) * 8000), np.float32))
            texts.append(clip.text)
        out.append(Clip(f"call/{seed}-{i}", " ".join(texts), np.concatenate(parts), 8000, "call", holdout))
    return out


def real_sets(n_asterisk: int, n_calls: int) -> dict[str, list[Clip]]:
    """Named sets of real speech; calls are built from dev recordings for dev and held-out ones for holdout."""
    ast, sph = asterisk(n_asterisk), sphinx()
    sets = {"asterisk-8k-real": ast, "sphinx-16k-real": sph}
    if ast and sph:
        dev = calls([c for c in ast if not c.holdout], [c for c in sph if not c.holdout], n_calls, 7, False)
        hold = calls([c for c in ast if c.holdout], [c for c in sph if c.holdout],
                     max(1, n_calls * HOLDOUT_PERCENT // (100 - HOLDOUT_PERCENT)), 11, True)
        sets["calls-8k-real"] = dev + hold
    return sets
