"""Which flow, if any, a message asks for: by meaning (the flow's examples) or by a confident intent.

The message's vector is the one the turn already computed (MiniLM, unit length), so matching
costs one matrix product over a few hundred example vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.dialogue.flows import Flow

EVIDENCE_BONUS = 0.1  # a message that gives a flow's slot leans that far towards the flow
# Closer than this to a flow's own example, the wording decides before the classifier: BANKING77 has no
# "freeze my card" or "what's my balance", and reads them as its nearest intent (lost card, pending payment).
STRONG_EXAMPLE = 0.8
# A classifier intent this confident that no flow triggers on rules the examples out ("card_linking" 0.9),
# unless the message is this close to a flow's example: BANKING77 has no balance intent, and reads
# "I'd like to check my balance" as verify_source_of_funds (0.85).
OTHER_INTENT_CONFIDENCE = 0.5
BEATS_OTHER_INTENT = 0.76
NEUTRAL_INTENTS = frozenset({"out_of_scope", "greeting", "goodbye", "thanks", "human_agent", "complaint"})


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

    def candidates(self, vector: np.ndarray, intent: str | None = None) -> set[str]:
        """The flows `match` may read slots of (the evidence) or name for this vector and intent: the
        nearest by examples, unless even its evidence bonus leaves it under every bar it could clear,
        and the flow of the intent."""
        found = {self._by_intent[intent]} if intent in self._by_intent else set()
        best = max(self.scores(vector).items(), key=lambda kv: kv[1], default=None)
        if best is not None and best[1] + EVIDENCE_BONUS >= min(self.min_similarity, BEATS_OTHER_INTENT):
            found.add(best[0])
        return found

    def match(self, vector: np.ndarray, intent: str | None = None, confidence: float = 0.0, *,
              faq_score: float = 0.0, evidence: Callable[[str], bool] = lambda _: False,
              margin: float = 0.0, about_rules: bool = False, in_flow: bool = False) -> FlowMatch | None:
        """The flow asked for, or None.

        A message worded like a flow's own example (STRONG_EXAMPLE) starts it; otherwise a confident
        classifier intent decides: a flow's trigger intent starts it, any other known intent rules the
        examples out; otherwise the examples again, at the lower bar: a flow must be closer to the message than the nearest FAQ question (`faq_score`): "how do I
        dispute a charge?" is nearer an FAQ than the dispute flow's examples, "the hotel billed me twice"
        is not. `evidence(flow)`: the message gives one of the flow's slots ("send $50 to Bartholomew"),
        which counts `EVIDENCE_BONUS` for the flow. `margin` raises the bar (a switch out of another flow).
        """
        ranked = sorted(self.scores(vector).items(), key=lambda kv: kv[1], reverse=True)
        flow, sim = ranked[0] if ranked else ("", 0.0)
        leaning = sim + (EVIDENCE_BONUS if flow and evidence(flow) else 0.0)
        by_examples = flow and leaning >= self.min_similarity + margin and leaning > faq_score
        if by_examples and leaning >= STRONG_EXAMPLE + margin:  # worded like the flow's own examples ("freeze my card")
            return FlowMatch(flow, round(sim, 4), "examples")
        if in_flow:  # leaving a flow for another takes a clear request, not a resemblance ("will my debits still go out?")
            return None
        named = self._by_intent.get(intent or "")
        # A question after a fee, a figure or a rule ("what is the overdraft fee") is for the knowledge base,
        # whichever intent it resembles; only wording like a flow's own example starts one (above).
        if named and confidence >= self.min_intent_confidence + margin and not about_rules:
            return FlowMatch(named, round(confidence, 4), "intent")
        if intent and intent not in NEUTRAL_INTENTS and not named and confidence >= OTHER_INTENT_CONFIDENCE \
                and leaning < BEATS_OTHER_INTENT + margin:
            return None  # the classifier knows this request, and no flow does it ("link my card to the app")
        return FlowMatch(flow, round(sim, 4), "examples") if by_examples else None
