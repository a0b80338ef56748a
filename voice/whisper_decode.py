"""One Whisper decode of an encoded window, guarded against loops and invented words.

The rules are Whisper's own (openai-whisper and faster-whisper use them too): a decode whose text
compresses too well (gzip ratio > 2.4: it repeats itself) or whose tokens are improbable
(average log-probability < -1.0) is decoded again at a higher temperature; a window whose
no-speech probability is > 0.6 while its text is improbable is silence. A short phrase looped
("Thank you. Thank you. Thank you.") compresses too little to trip the gzip rule, so a phrase said
three or more times in a row also counts as a failed decode; if every temperature fails, the
most probable decode is kept with each loop cut to one copy.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class DecodeGuard:
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    best_of: int = 5  # sampled candidates at a temperature above 0
    loop_repeats: int = 3  # a phrase (2+ tokens) this many times in a row is a loop


@dataclass(frozen=True, slots=True)
class Decoded:
    ids: list[int]  # text tokens only
    avg_logprob: float
    no_speech_prob: float
    temperature: float
    silent: bool
    failed: bool = False  # every temperature looped or was improbable


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def find_loop(ids: list[int], repeats: int = 3, min_period: int = 2) -> tuple[int, int] | None:
    """(start, period) of the first phrase of >= min_period tokens repeated `repeats` times in a row."""
    n = len(ids)
    for start in range(n):
        for p in range(min_period, (n - start) // repeats + 1):
            if all(ids[start : start + p] == ids[start + k * p : start + (k + 1) * p] for k in range(1, repeats)):
                return start, p
    return None


def cut_loops(ids: list[int], repeats: int = 3) -> list[int]:
    """Each phrase looped `repeats`+ times kept once: [a b a b a b c] -> [a b c]; [a b c a b c a] -> [a b c]
    (a loop that ran into the length bound ends in part of the phrase)."""
    found = find_loop(ids, repeats)
    while found is not None:
        start, p = found
        end = start + p
        while ids[end : end + p] == ids[start : start + p]:
            end += p
        if len(ids) - end < p and ids[end:] == ids[start : start + len(ids) - end]:
            end = len(ids)
        ids = ids[: start + p] + ids[end:]
        found = find_loop(ids, repeats)
    return ids


_WORD = re.compile(r"[a-z0-9']+")


def cut_repeated_words(text: str, min_words: int = 2) -> str:
    """Text cut before the second copy of a phrase (2+ words) said twice in a row, whatever the punctuation:
    "Go forward 10 meters, go forward 10 meters." -> "Go forward 10 meters,". For decodes that ran into the bound."""
    spans = [(m.group(), m.start()) for m in _WORD.finditer(text.lower())]
    ws = [w for w, _ in spans]
    for i in range(len(ws)):
        for p in range(min_words, (len(ws) - i) // 2 + 1):
            if ws[i : i + p] == ws[i + p : i + 2 * p]:
                return text[: spans[i + p][1]].rstrip()
    return text


def decode(model: Any, enc: Any, prompt: list[int], *, eot: int, decode_text: Any, beam_size: int, max_length: int,
           guard: DecodeGuard, **generate: Any) -> Decoded:
    """Decode at rising temperatures until Whisper's rules pass (see the module doc)."""
    tried: list[tuple[Decoded, bool]] = []
    for temperature in guard.temperatures:
        opts = ({"beam_size": beam_size} if temperature == 0 else
                {"beam_size": 1, "num_hypotheses": guard.best_of, "sampling_temperature": temperature, "sampling_topk": 0})
        res = model.generate(enc, [prompt], max_length=max_length, return_scores=True, return_no_speech_prob=True,
                             **opts, **generate)[0]
        seq = res.sequences_ids[0]
        ids = [t for t in seq if t < eot]
        avg = float(res.scores[0]) * len(seq) / (len(seq) + 1) if res.scores else 0.0
        d = Decoded(ids, avg, float(res.no_speech_prob), temperature, False)
        improbable = avg < guard.log_prob_threshold
        if d.no_speech_prob > guard.no_speech_threshold and improbable:
            return Decoded([], avg, d.no_speech_prob, temperature, True)
        # Unfinished within the length bound (the caller sizes it to the audio): it was still looping.
        unfinished = len(seq) >= max_length - len(prompt) - 1
        looped = unfinished or compression_ratio(decode_text(ids)) > guard.compression_ratio_threshold or \
            find_loop(ids, guard.loop_repeats) is not None
        if not looped and not improbable:
            return d
        tried.append((d, looped))
    best = max((d for d, looped in tried if not looped), default=None, key=lambda d: d.avg_logprob) or \
        max((d for d, _ in tried), key=lambda d: d.avg_logprob)
    # Every decode looped: keep one copy of each repeat, even a phrase said only twice (the caller
    # also cuts the text at a repeated phrase, see cut_repeated_words).
    return Decoded(cut_loops(best.ids, 2), best.avg_logprob, best.no_speech_prob, best.temperature, False, True)
