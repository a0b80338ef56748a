"""The trained intent model as plain arrays, its predictions, and its artefact on disk.

Artefact (format 1), read by assistant/nlu/classifier.py, which re-implements `predict`:
  config.json    labels, ensemble weight, temperature, thresholds, the exact training config
  heads.npz      mlp_w1 mlp_b1 mlp_w2 mlp_b2 | tfidf_idf tfidf_coef tfidf_intercept |
                 scope_w scope_b | human_w human_b   (float16 where size matters)
  tfidf_vocab.json  the TF-IDF terms in column order
  metrics.json   what the training run measured
Optional parts (the runtime works without them, with fewer signals):
  human_vocab.json + heads.npz human_tfidf_idf human_tfidf_w   word features of the human-request head
  scope_vocab.json + heads.npz scope_tfidf_idf scope_tfidf_w   word features of the in-scope head
  chars.json     character trigram model and threshold of the keyboard-mashing check
  products.json + heads.npz product_emb   knowledge-base product titles (+ vectors) and its words
  config.json "second" + heads.npz second_w1 second_b1 second_w2 second_b2   the second opinion: an MLP over
                 [MiniLM, all-mpnet-base-v2] for messages whose top intent is under "below" (finetune/intent/second.py)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from finetune.intent.heads import BinaryHead, MlpHead, TfidfHead, log_softmax, softmax, tfidf_logits

FORMAT = 1


@dataclass(frozen=True)
class Thresholds:
    in_scope: float  # p(in domain) at or above this is in scope
    human: float  # p(asks for a person) at or above this is a human request


@dataclass(frozen=True)
class WordWeights:
    """Word uni/bigram TF-IDF weights added to a binary head's logit (human request, in scope)."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    w: np.ndarray

    def logits(self, texts: list[str]) -> np.ndarray:
        head = TfidfHead(self.vocabulary, self.idf, self.w[None, :], np.zeros(1, np.float32))
        return tfidf_logits(head, texts)[:, 0]


@dataclass(frozen=True)
class SecondOpinion:
    """For an unsure message (top calibrated probability under `below`): an MLP over the MiniLM vector and a
    second encoder's, in the same ensemble with the TF-IDF head, with its own temperature."""

    encoder: str
    mlp: MlpHead
    below: float
    temperature: float


@dataclass(frozen=True)
class IntentModel:
    labels: list[str]
    mlp: MlpHead
    tfidf: TfidfHead
    tfidf_weight: float  # share of the TF-IDF log-probabilities in the ensemble
    temperature: float
    scope: BinaryHead
    human: BinaryHead
    thresholds: Thresholds
    human_words: WordWeights | None = None
    chars: dict | None = None  # CharModel as JSON (assistant/nlu/gibberish.py)
    products: dict = field(default_factory=dict)  # {"titles": [...], "words": [...]}
    product_emb: np.ndarray | None = None
    scope_words: WordWeights | None = None
    second: SecondOpinion | None = None

    def scope_prob(self, emb: np.ndarray, texts: list[str]) -> np.ndarray:
        """p(in domain)."""
        return _binary_prob(self.scope, self.scope_words, emb, texts)

    def human_prob(self, emb: np.ndarray, texts: list[str]) -> np.ndarray:
        """p(asks for a person)."""
        return _binary_prob(self.human, self.human_words, emb, texts)

    def raw_logits(self, emb: np.ndarray, texts: list[str]) -> np.ndarray:
        """Ensemble log-probabilities before temperature scaling."""
        w = self.tfidf_weight
        return (1.0 - w) * log_softmax(self.mlp.logits(emb)) + w * log_softmax(tfidf_logits(self.tfidf, texts))

    def probs(self, emb: np.ndarray, texts: list[str], *, calibrated: bool = True, emb2: np.ndarray | None = None) -> np.ndarray:
        """Intent probabilities; with `emb2` (the second encoder's vectors) unsure rows take the second opinion's."""
        z = self.raw_logits(emb, texts)
        p = softmax(z / self.temperature if calibrated else z)
        if self.second is None or emb2 is None:
            return p
        z2 = self.second_logits(emb, emb2, texts)
        return np.where((softmax(z / self.temperature).max(1) < self.second.below)[:, None],
                        softmax(z2 / self.second.temperature if calibrated else z2), p)

    def second_logits(self, emb: np.ndarray, emb2: np.ndarray, texts: list[str]) -> np.ndarray:
        """The second opinion's ensemble log-probabilities before temperature scaling."""
        if self.second is None:
            raise ValueError("this model has no second opinion")
        w, x = self.tfidf_weight, np.concatenate([emb, emb2], axis=1)
        return (1.0 - w) * log_softmax(self.second.mlp.logits(x)) + w * log_softmax(tfidf_logits(self.tfidf, texts))


def save(model: IntentModel, out: Path, *, config: dict, metrics: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    vocab = sorted(model.tfidf.vocabulary, key=model.tfidf.vocabulary.__getitem__)
    np.savez_compressed(
        out / "heads.npz",
        mlp_w1=model.mlp.w1.astype(np.float16), mlp_b1=model.mlp.b1.astype(np.float32),
        mlp_w2=model.mlp.w2.astype(np.float16), mlp_b2=model.mlp.b2.astype(np.float32),
        tfidf_idf=model.tfidf.idf.astype(np.float32), tfidf_coef=model.tfidf.coef.astype(np.float16),
        tfidf_intercept=model.tfidf.intercept.astype(np.float32),
        scope_w=model.scope.w.astype(np.float32), scope_b=np.float32(model.scope.b),
        human_w=model.human.w.astype(np.float32), human_b=np.float32(model.human.b), **_optional_arrays(model),
    )
    (out / "tfidf_vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    for name in ("human_vocab.json", "scope_vocab.json", "chars.json", "products.json"):
        (out / name).unlink(missing_ok=True)
    for name, head in (("human_vocab.json", model.human_words), ("scope_vocab.json", model.scope_words)):
        if head is not None:
            words = sorted(head.vocabulary, key=head.vocabulary.__getitem__)
            (out / name).write_text(json.dumps(words, ensure_ascii=False))
    if model.chars is not None:
        (out / "chars.json").write_text(json.dumps(model.chars, sort_keys=True))
    if model.products:
        (out / "products.json").write_text(json.dumps(model.products, ensure_ascii=False, sort_keys=True))
    cfg = {
        "format": FORMAT,
        "base_model": "all-minilm-l6-v2",
        "embedding": "mean pooling, L2-normalised (knowledge_base.embeddings.MiniLMEmbeddings)",
        "labels": model.labels,
        "tfidf_weight": model.tfidf_weight,
        "temperature": model.temperature,
        "thresholds": {"in_scope": model.thresholds.in_scope, "human": model.thresholds.human},
        "training": config,
    }
    if model.second is not None:
        cfg["second"] = {"encoder": model.second.encoder, "below": model.second.below, "temperature": model.second.temperature}
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")


def _optional_arrays(model: IntentModel) -> dict:
    out = {}
    if model.human_words is not None:
        out["human_tfidf_idf"] = model.human_words.idf.astype(np.float32)
        out["human_tfidf_w"] = model.human_words.w.astype(np.float32)
    if model.scope_words is not None:
        out["scope_tfidf_idf"] = model.scope_words.idf.astype(np.float32)
        out["scope_tfidf_w"] = model.scope_words.w.astype(np.float32)
    if model.product_emb is not None and model.products:
        out["product_emb"] = model.product_emb.astype(np.float16)
    if model.second is not None:
        m = model.second.mlp
        out |= {"second_w1": m.w1.astype(np.float16), "second_b1": m.b1.astype(np.float32),
                "second_w2": m.w2.astype(np.float16), "second_b2": m.b2.astype(np.float32)}
    return out


def _binary_prob(head: BinaryHead, words: WordWeights | None, emb: np.ndarray, texts: list[str]) -> np.ndarray:
    """A binary head's probability: its embedding logit plus, when trained, its word features' logit."""
    z = emb @ head.w + head.b
    if words is not None:
        z = z + words.logits(texts)
    return 1.0 / (1.0 + np.exp(-z))


def rounded(model: IntentModel) -> IntentModel:
    """The model as the runtime will see it (float16 weights), so measured figures match."""
    f16 = lambda a: a.astype(np.float16).astype(np.float32)  # noqa: E731
    return IntentModel(
        model.labels, MlpHead(f16(model.mlp.w1), model.mlp.b1, f16(model.mlp.w2), model.mlp.b2),
        TfidfHead(model.tfidf.vocabulary, model.tfidf.idf, f16(model.tfidf.coef), model.tfidf.intercept),
        model.tfidf_weight, model.temperature, model.scope, model.human, model.thresholds,
        model.human_words, model.chars, model.products,
        None if model.product_emb is None else f16(model.product_emb), model.scope_words,
        None if model.second is None else SecondOpinion(
            model.second.encoder, MlpHead(f16(model.second.mlp.w1), model.second.mlp.b1, f16(model.second.mlp.w2),
                                          model.second.mlp.b2), model.second.below, model.second.temperature),
    )
