"""The keyboard-mashing model: letter trigram log-probabilities and the threshold under which an
unknown message is mashing (read by assistant/nlu/gibberish.py)."""

from __future__ import annotations

import math
import random
import re
from collections import Counter

import numpy as np

_LETTERS = re.compile(r"[a-z]+")
ALPHABET = 27  # a-z and the end mark "$"
KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def fit_chars(texts: list[str], *, k: float = 0.1) -> dict:
    """Add-k smoothed p(letter | two before); trigrams seen fewer than twice are left to the context floor."""
    tri: Counter[str] = Counter()
    ctx: Counter[str] = Counter()
    for t in texts:
        for w in _LETTERS.findall(t.lower()):
            padded = f"^^{w}$"
            for i in range(2, len(padded)):
                tri[padded[i - 2 : i + 1]] += 1
                ctx[padded[i - 2 : i]] += 1
    logprob = {g: round(math.log((n + k) / (ctx[g[:2]] + k * ALPHABET)), 3) for g, n in tri.items() if n >= 2}
    floor = {c: round(math.log(k / (n + k * ALPHABET)), 3) for c, n in ctx.items()}
    # A letter pair never seen at all is at least as unlikely as the rarest unseen continuation.
    return {"logprob": logprob, "context_floor": floor, "floor": min(floor.values(), default=-9.0), "threshold": 0.0}


def mashing(n: int, *, seed: int) -> list[str]:
    """Synthetic keyboard mashing: one to three runs of letters near each other on the keyboard."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = []
        for _ in range(rng.randint(1, 3)):
            row = rng.choice(KEYBOARD_ROWS + ("".join(KEYBOARD_ROWS),))
            words.append("".join(rng.choice(row) for _ in range(rng.randint(3, 9))))
        out.append(" ".join(words))
    return out


def choose_threshold(model, real_unknown: list[str], *, flag_share: float) -> float:
    """The score under which only `flag_share` of real, unknown words fall (names, places, slang)."""
    scores = np.array([model.score([w]) for w in real_unknown])
    return round(float(np.quantile(scores, flag_share)), 3)
