"""Which flow, if any, a message asks for: by meaning (the flow's examples) or by a confident intent.

The message's vector is the one the turn already computed (MiniLM, unit length), so matching
costs one matrix product over a few hundred example vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.dialogue.flows import Flow


@dataclass(frozen=True, slots=True)
class FlowMatch:
    flow: str
    score: float
    by: str  # "examples" | "intent"


class FlowMatcher:
    def __init__(self, flows: dict[str, Flow], embed_many: Callable[[list[str]], np.ndarray], *,
                 min_similarity: float, min_intent_confidence: float) -> None:
        self.min_similarity, self.min_intent_confidence = min_similarity, min_intent_confidence
        self._owners: list[str] = []
        texts: list[str] = []
        self._by_intent: dict[str, str] = {}
        for flow in flows.values():
            for ex in flow.triggers.examples:
                texts.append(ex)
                self._owners.append(flow.name)
            for intent in flow.triggers.intents:
                self._by_intent[intent] = flow.name
        vectors = np.asarray(embed_many(texts), dtype=np.float32) if texts else np.zeros((0, 1), np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True) if len(texts) else 1.0
        self._vectors = vectors / np.maximum(norms, 1e-9)

    def scores(self, vector: np.ndarray) -> dict[str, float]:
        """The best example similarity per flow."""
        if not self._owners:
            return {}
        sims = self._vectors @ (vector / max(float(np.linalg.norm(vector)), 1e-9))
        best: dict[str, float] = {}
        for owner, s in zip(self._owners, sims.tolist(), strict=True):
            best[owner] = max(best.get(owner, -1.0), s)
        return best

    def match(self, vector: np.ndarray, intent: str | None = None, confidence: float = 0.0,
              *, margin: float = 0.0) -> FlowMatch | None:
        """The flow asked for; `margin` raises the bar (inside another flow a switch must be clear)."""
        best = max(self.scores(vector).items(), key=lambda kv: kv[1], default=None)
        if best is not None and best[1] >= self.min_similarity + margin:
            return FlowMatch(best[0], round(best[1], 4), "examples")
        if intent in self._by_intent and confidence >= self.min_intent_confidence + margin:
            return FlowMatch(self._by_intent[intent], round(confidence, 4), "intent")
        return None
