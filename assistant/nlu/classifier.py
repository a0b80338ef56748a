"""Intent, scope, human-request and handoff signals for one turn, over MiniLM embeddings.

The encoder is the frozen all-MiniLM-L6-v2 the dialogue pipeline already runs for retrieval,
so a caller that has the message's embedding passes it and the NLU costs well under a
millisecond; otherwise it embeds the text itself (one encoder pass). The heads come from
the artefact that `python -m finetune.intent.train` writes (format in finetune/intent/model.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.nlu.gibberish import CharModel
from assistant.nlu.routes import RouteRules
from assistant.nlu.second import SecondHeads, load_second
from assistant.nlu.sentiment import LexiconSentiment
from assistant.nlu.tfidf import TfidfFeatures
from assistant.nlu.types import NluResult

log = logging.getLogger(__name__)
TRAIN_COMMAND = ".venv/bin/python -m finetune.intent.train"
DEFAULT_ARTIFACT = Path(__file__).resolve().parent / "artifacts" / "intent"
FORMAT = 1
# Shorter messages skip the second opinion: in conversations they are answers and chat ("yes", "to Amir":
# 17 % of SGD banks dev turns); BANKING77 validation accuracy is the same without them.
SECOND_MIN_WORDS = 4
OUT_OF_SCOPE, COMPLAINT = "out_of_scope", "complaint"


class MissingArtifactError(RuntimeError):
    """The trained heads are not there (or are from another format): train them first."""


class Embedder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class HandoffRules:
    """When the NLU itself recommends a person; the dialogue policy may apply stricter rules."""

    urgent_intents: frozenset[str] = frozenset({"lost_or_stolen_card", "compromised_card"})
    frustration_threshold: float = 0.7
    low_confidence: float = 0.45  # under this the customer is asked which of the top intents is meant
    urgent_confidence: float = 0.6  # an urgent intent offers a person only from this confidence up


def _word_logit(features: TfidfFeatures | None, weights: np.ndarray | None, text: str) -> float:
    """A binary head's word-feature logit (0 for an artefact without them)."""
    if features is None or weights is None:
        return 0.0
    idx, w = features.sparse(text)
    return float(weights[idx] @ w)


def _sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + np.exp(-z)))


@dataclass
class _Heads:
    labels: list[str]
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    tfidf: TfidfFeatures
    tfidf_coef: np.ndarray
    tfidf_intercept: np.ndarray
    tfidf_weight: float
    temperature: float
    scope_w: np.ndarray
    scope_b: float
    human_w: np.ndarray
    human_b: float
    in_scope_threshold: float
    human_threshold: float
    config: dict = field(default_factory=dict)
    # Optional parts (absent from older artefacts): the human and scope heads' word features, the
    # keyboard-mashing model, and the knowledge base's product titles with their vectors.
    human_tfidf: TfidfFeatures | None = None
    human_tfidf_w: np.ndarray | None = None
    scope_tfidf: TfidfFeatures | None = None
    scope_tfidf_w: np.ndarray | None = None
    chars: CharModel | None = None
    product_titles: list[str] = field(default_factory=list)
    product_emb: np.ndarray | None = None
    kb_words: frozenset[str] = frozenset()
    second: SecondHeads | None = None


def load_heads(artifact_dir: Path) -> _Heads:
    artifact_dir = Path(artifact_dir)
    files = [artifact_dir / n for n in ("config.json", "heads.npz", "tfidf_vocab.json")]
    missing = [f.name for f in files if not f.exists()]
    if missing:
        raise MissingArtifactError(
            f"intent classifier artefact missing in {artifact_dir} ({', '.join(missing)}): "
            f"train it with `{TRAIN_COMMAND}` (needs ../shared/data/banking77 or BANK_NLU__BANKING77_DIR)"
        )
    cfg = json.loads(files[0].read_text())
    if cfg.get("format") != FORMAT:
        raise MissingArtifactError(f"{artifact_dir} has format {cfg.get('format')}, expected {FORMAT}: retrain with `{TRAIN_COMMAND}`")
    with np.load(files[1]) as z:
        a = {k: z[k] for k in z.files}
    f32 = lambda k: a[k].astype(np.float32)  # noqa: E731  (float16 on disk keeps the artefact small)
    return _Heads(
        labels=list(cfg["labels"]), w1=f32("mlp_w1"), b1=f32("mlp_b1"), w2=f32("mlp_w2"), b2=f32("mlp_b2"),
        tfidf=TfidfFeatures(json.loads(files[2].read_text()), f32("tfidf_idf")),
        tfidf_coef=f32("tfidf_coef"), tfidf_intercept=f32("tfidf_intercept"),
        tfidf_weight=float(cfg["tfidf_weight"]), temperature=float(cfg["temperature"]),
        scope_w=f32("scope_w"), scope_b=float(a["scope_b"]), human_w=f32("human_w"), human_b=float(a["human_b"]),
        in_scope_threshold=float(cfg["thresholds"]["in_scope"]), human_threshold=float(cfg["thresholds"]["human"]),
        config=cfg, **_optional(artifact_dir, a),
    )


def _optional(artifact_dir: Path, a: dict) -> dict:
    out: dict = {}
    chars, products = (artifact_dir / n for n in ("chars.json", "products.json"))
    for head in ("human", "scope"):  # word features of the human-request and in-scope heads
        vocab = artifact_dir / f"{head}_vocab.json"
        if vocab.exists() and f"{head}_tfidf_w" in a:
            out[f"{head}_tfidf"] = TfidfFeatures(json.loads(vocab.read_text()), a[f"{head}_tfidf_idf"].astype(np.float32))
            out[f"{head}_tfidf_w"] = a[f"{head}_tfidf_w"].astype(np.float32)
    if chars.exists():
        out["chars"] = CharModel.from_json(json.loads(chars.read_text()))
    if products.exists() and "product_emb" in a:
        p = json.loads(products.read_text())
        out["product_titles"], out["kb_words"] = list(p["titles"]), frozenset(p["words"])
        out["product_emb"] = a["product_emb"].astype(np.float32)
    out["second"] = load_second(artifact_dir, a)
    return out


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x**3)))


class MiniLMIntentClassifier:
    """`classify(text, failed_turns=..., embedding=...)` -> NluResult. Thread-safe (read-only state)."""

    def __init__(self, embedder: Embedder, artifact_dir: Path = DEFAULT_ARTIFACT, *,
                 rules: HandoffRules | None = None, sentiment: LexiconSentiment | None = None) -> None:
        self.heads = load_heads(artifact_dir)  # fail at start-up, not on the first customer
        self.embedder = embedder
        self.second_encoder: Callable[[str], np.ndarray] | None = None  # text -> the second encoder's unit vector
        self.rules = rules or HandoffRules()
        self.sentiment = sentiment or LexiconSentiment()
        self.labels = self.heads.labels
        h = self.heads
        # Words that make a message readable: the intent, human-request and knowledge-base vocabularies.
        self.known_words = frozenset(w for w in h.tfidf.index if " " not in w) | h.kb_words | (
            frozenset(w for w in h.human_tfidf.index if " " not in w) if h.human_tfidf else frozenset())
        self.routes = RouteRules(self.known_words)

    def use_second(self, name: str, encode: Callable[[str], np.ndarray] | None) -> bool:
        """Ask `encode` (text -> unit vector) if the second heads were trained on the encoder called `name`."""
        second = self.heads.second
        self.second_encoder = encode if second is not None and encode is not None and name == second.encoder else None
        if second is not None and self.second_encoder is None:
            log.info("intent second opinion off: it needs the %s reranker", second.encoder)
        return self.second_encoder is not None

    def wants_second(self, text: str, embedding: np.ndarray) -> bool:
        """Whether the second opinion may change this turn: an unsure top intent of an in-scope message of
        `SECOND_MIN_WORDS` or more that asks for no person (else the intent decides nothing)."""
        if self.second_encoder is None or len(text.split()) < SECOND_MIN_WORDS:
            return False
        return self._unsure(text, self.probabilities(text, np.asarray(embedding).reshape(-1)))

    def _unsure(self, text: str, first: tuple[np.ndarray, float, float]) -> bool:
        """`wants_second` over the first opinion's (intent probabilities, p(in scope), p(person))."""
        second, (p, p_in, p_human), h = self.heads.second, first, self.heads
        if second is None or self.second_encoder is None or len(text.split()) < SECOND_MIN_WORDS:
            return False
        return float(p.max()) < second.below and p_in >= h.in_scope_threshold and p_human < h.human_threshold

    def _intent_probs(self, text: str, e: np.ndarray, second: np.ndarray | None) -> np.ndarray:
        """Calibrated intent probabilities; an unsure message with the second encoder's vector takes the second opinion's."""
        h = self.heads
        words = h.tfidf_weight * _log_softmax(h.tfidf.logits(text, h.tfidf_coef, h.tfidf_intercept))
        z = ((1.0 - h.tfidf_weight) * _log_softmax(_gelu_tanh(e @ h.w1 + h.b1) @ h.w2 + h.b2) + words) / h.temperature
        p = np.exp(z - z.max())
        s = h.second
        if s is not None and second is not None and p.max() / p.sum() < s.below:
            z = ((1.0 - h.tfidf_weight) * _log_softmax(s.hidden_logits(e, second, _gelu_tanh)) + words) / s.temperature
            p = np.exp(z - z.max())
        return p / p.sum()

    def probabilities(self, text: str, embedding: np.ndarray, second: np.ndarray | None = None) -> tuple[np.ndarray, float, float]:
        """(calibrated intent probabilities, p(in scope), p(asks for a person)); `second`: the second encoder's vector."""
        h, e = self.heads, embedding.astype(np.float32)
        p = self._intent_probs(text, e, second)
        # word features add what the embedding blurs: the request for a person inside a longer
        # message, the domain words of a short one
        human = float(e @ h.human_w + h.human_b) + _word_logit(h.human_tfidf, h.human_tfidf_w, text)
        scope = float(e @ h.scope_w + h.scope_b) + _word_logit(h.scope_tfidf, h.scope_tfidf_w, text)
        return p, _sigmoid(scope), _sigmoid(human)

    def classify(self, text: str, *, failed_turns: int = 0, embedding: np.ndarray | None = None,
                 second: np.ndarray | None = None) -> NluResult:
        """`embedding`: this text's normalised all-MiniLM-L6-v2 vector, if the caller already has it; `second`: its
        second encoder's vector, else computed here when the message is unsure (`wants_second`)."""
        if embedding is None:
            embedding = self.embedder.encode([text])[0]
        embedding = np.asarray(embedding).reshape(-1)
        first = self.probabilities(text, embedding)
        if second is None and self.second_encoder is not None and self._unsure(text, first):
            try:
                second = self.second_encoder(text)
            except Exception as exc:  # the first opinion still answers
                log.warning("intent second opinion failed (%s): first opinion only", type(exc).__name__)
        probs, p_in, p_human = first if second is None else self.probabilities(text, embedding, second)
        order = np.argsort(-probs)
        top = tuple((self.labels[i], round(float(probs[i]), 4)) for i in order[:5])
        intent, confidence = top[0]
        # The binary head alone decides: adding "top intent is human_agent" doubled false alarms.
        human_request = p_human >= self.heads.human_threshold
        # The scope head alone decides scope. A request for a person still gets its handoff
        # (that rule comes first), so "I won't tell a machine" needs no in-scope override, and
        # forcing one let stray false alarms ("la la la") through as in scope.
        in_scope = p_in >= self.heads.in_scope_threshold
        if not in_scope and not human_request:
            intent, confidence = OUT_OF_SCOPE, round(1.0 - p_in, 4)
        elif intent == OUT_OF_SCOPE:  # the scope head is the OOD detector: take the best in-scope intent
            intent, confidence = next((n, c) for n, c in top if n != OUT_OF_SCOPE)
        mood = self.sentiment.analyze(text, failed_turns=failed_turns)
        urgent = sum(c for n, c in top if n in self.rules.urgent_intents)  # "stole my card": lost or compromised
        turn = _Turn(text, intent, float(confidence), in_scope, human_request, mood.label, mood.frustration, urgent)
        handoff, offer, route, reason = self._decide(turn)
        nearest = self._nearest_product(embedding) if route == "not_offered" else ""
        return NluResult(
            intent=intent, confidence=float(confidence), top=top, in_scope=in_scope, human_request=human_request,
            human_score=round(p_human, 4), sentiment=mood.label, frustration=mood.frustration,
            handoff_recommended=handoff, reason=reason, offer_agent=offer, route=route, nearest_product=nearest,
        )

    def _decide(self, t: _Turn) -> tuple[bool, bool, str, str]:
        """(hand over now, offer a person, route, reason), in the order of assistant/handoff/policy.py:
        a person asked for beats everything; low confidence or an urgent topic alone never hands over."""
        if t.human:
            return True, False, "", "explicit request for a human"
        if self.heads.chars is not None and self.heads.chars.is_gibberish(t.text, self.known_words):
            return False, False, "rephrase", "unreadable: please rephrase"
        if t.intent == COMPLAINT and t.sentiment == "negative":
            return True, False, "", "complaint with negative sentiment"
        if t.frustration >= self.rules.frustration_threshold:
            return True, False, "", "customer frustration"
        advice = self.routes.advice(t.text)
        if advice:
            return False, False, "advice", f"advice: {advice}"
        product = self.routes.not_offered(t.text) if self.heads.product_titles else None
        if product:
            return False, False, "not_offered", f"not offered: {product}"
        if not t.in_scope:
            return False, False, "", "out of scope"
        if t.confidence < self.rules.low_confidence:
            return False, False, "clarify", "low confidence: clarify"
        if t.intent in self.rules.urgent_intents and t.urgent_mass >= self.rules.urgent_confidence:
            return False, True, "", f"urgent: {t.intent}"
        return False, False, "", ""

    def _nearest_product(self, embedding: np.ndarray) -> str:
        h = self.heads
        if h.product_emb is None or not h.product_titles:
            return ""
        return h.product_titles[int(np.argmax(h.product_emb @ np.asarray(embedding, dtype=np.float32).reshape(-1)))]


@dataclass(frozen=True, slots=True)
class _Turn:
    text: str
    intent: str
    confidence: float
    in_scope: bool
    human: bool
    sentiment: str
    frustration: float
    urgent_mass: float  # the urgent intents' probabilities together
