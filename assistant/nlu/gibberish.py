"""Keyboard mashing ("sdfkj lkjwer") from a character trigram model: one pass over the text.

A message is mashing when none of its words is a word the classifier knows and its letters
are unlikely English: the mean log-probability of each letter given the two before it (words
padded with "^" and "$") falls under a threshold chosen at training time. Unknown but
word-like text ("hola", a surname) passes and goes on to the scope head; digits and
punctuation alone ("?", "250") are not mashing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LETTERS = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class CharModel:
    logprob: dict[str, float]  # "abc" -> log p(c | ab) for trigrams seen in training
    context_floor: dict[str, float]  # "ab" -> log p(unseen letter | ab)
    floor: float  # log p for a context never seen
    threshold: float  # mean log-probability per letter under which unknown words are mashing

    @classmethod
    def from_json(cls, data: dict) -> CharModel:
        return cls(dict(data["logprob"]), dict(data["context_floor"]), float(data["floor"]), float(data["threshold"]))

    def score(self, words: list[str]) -> float:
        """Mean log-probability per letter of these lower-case words."""
        total, n = 0.0, 0
        for w in words:
            padded = f"^^{w}$"
            for i in range(2, len(padded)):
                ctx, tri = padded[i - 2 : i], padded[i - 2 : i + 1]
                total += self.logprob.get(tri, self.context_floor.get(ctx, self.floor))
                n += 1
        return total / n if n else 0.0

    def is_gibberish(self, text: str, known: set[str] | frozenset[str]) -> bool:
        words = _LETTERS.findall(text.lower())
        if not words or any(w in known for w in words if len(w) >= 2):
            return False
        return self.score(words) < self.threshold
