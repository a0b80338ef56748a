"""Word uni/bigram TF-IDF features, the same as scikit-learn's TfidfVectorizer computes them.

Re-implemented (lowercase, token pattern, 1-2 grams, sublinear tf, idf, L2 norm) so the
runtime needs numpy only; finetune/intent/heads.py trains with scikit-learn and a test
checks the two agree.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

TOKEN = re.compile(r"(?u)\b\w\w+\b")


class TfidfFeatures:
    def __init__(self, vocabulary: list[str], idf: np.ndarray) -> None:
        self.index = {term: i for i, term in enumerate(vocabulary)}
        self.idf = idf.astype(np.float32)

    def sparse(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(feature indices, L2-normalised weights) of one text."""
        tokens = TOKEN.findall(text.lower())
        grams = tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
        counts = Counter(g for g in grams if g in self.index)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        idx = np.fromiter((self.index[g] for g in counts), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        w = (1.0 + np.log(tf)) * self.idf[idx]
        return idx, w / np.linalg.norm(w)

    def logits(self, text: str, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """coef: (labels, features). Only the columns of features present are touched."""
        idx, w = self.sparse(text)
        return coef[:, idx].astype(np.float32) @ w + intercept
