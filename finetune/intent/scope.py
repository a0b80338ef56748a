"""The in-scope head (issue 29): one logistic regression over [MiniLM embedding, word 1-2-gram TF-IDF].

In domain: BANKING77 and our assistant-level lines, the knowledge base's own topics, banking-adjacent
lines (finetune/data/scope_extra.yaml `in_scope`, HWU64 qa_currency) and the templates' plain banking
messages; out of domain: our out-of-scope lines, HWU64/SNIPS requests and our other-service requests
and follow-ups (scope_extra.yaml `out_of_scope`). The word features (their own vocabulary, as the
human-request head's) add what the embedding blurs: the domain words of a short message. Chosen on
SGD dev (never trained on) against the embedding-only head: see finetune/intent/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from finetune.intent.evaluate import Encoded
from finetune.intent.heads import BinaryHead
from finetune.intent.model import WordWeights
from finetune.intent.signals import fit_with_words


@dataclass(frozen=True)
class ScopeGroup:
    """Texts with their embeddings, whether they are in scope, and their sample weight."""

    enc: Encoded
    in_scope: np.ndarray | bool
    weight: np.ndarray | float


def training_groups(train: Encoded, in_domain: np.ndarray, banking77: np.ndarray, enc: dict[str, Encoded],
                    hp: dict) -> list[ScopeGroup]:
    """The scope head's data and weights. Our few hundred assistant-level lines (greetings, thanks...)
    would drown among 8k BANKING77 rows and be refused: they weigh `scope_extra_weight`."""
    w = np.where(in_domain, np.where(banking77, 1.0, hp["scope_extra_weight"]), 1.0)
    return [ScopeGroup(train, in_domain, w),
            ScopeGroup(enc["kb_domain"], True, hp["scope_kb_weight"]),
            ScopeGroup(enc["scope_in"], True, hp["scope_adjacent_weight"]),
            ScopeGroup(enc["hum_neg"], True, hp["scope_plain_weight"]),  # "send it to Amir": names people
            ScopeGroup(enc["scope_out"], False, 1.0),
            ScopeGroup(enc["scope_own_out"], False, hp["scope_own_out_weight"])]


def fit_scope(groups: list[ScopeGroup], *, c: float, seed: int) -> tuple[BinaryHead, WordWeights]:
    """Out-of-domain weights are scaled so both sides weigh the same in total."""
    texts = [t for g in groups for t in g.enc.texts]
    emb = np.concatenate([g.enc.emb for g in groups])
    pos = np.concatenate([np.broadcast_to(g.in_scope, len(g.enc)) for g in groups]).astype(bool)
    w = np.concatenate([np.broadcast_to(g.weight, len(g.enc)) for g in groups]).astype(np.float64)
    w[~pos] *= w[pos].sum() / max(1.0, w[~pos].sum())
    return fit_with_words(emb, texts, pos, c=c, seed=seed, sample_weight=w)
