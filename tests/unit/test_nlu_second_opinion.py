"""The second opinion of unsure messages: an MLP over [MiniLM, a second encoder] (finetune/intent/second.py),
asked at run time only under the artefact's `below`, and off the event loop in the pipeline."""

import asyncio
import dataclasses
import threading

import numpy as np
import pytest

from assistant.nlu.classifier import MiniLMIntentClassifier
from tests.unit.test_nlu_classifier import DATA, KeywordEmbedder

H = pytest.importorskip("finetune.intent.heads")
from finetune.intent.model import IntentModel, SecondOpinion, Thresholds, rounded, save  # noqa: E402


class ReversedEmbedder(KeywordEmbedder):
    """A second encoder that sees the same words in another order (a different vector space)."""

    def encode(self, texts):
        return super().encode(texts)[:, ::-1].copy()


def _model(below: float) -> IntentModel:
    labels = list(DATA)
    texts = [t for lab in labels for t in DATA[lab]]
    y = np.array([labels.index(lab) for lab in labels for _ in DATA[lab]])
    x, x2 = KeywordEmbedder().encode(texts), ReversedEmbedder().encode(texts)
    cfg = H.MlpConfig(hidden=32, epochs=80, batch_size=32, dropout=0.0, input_dropout=0.0, label_smoothing=0.0, lr=3e-2)
    second = SecondOpinion("enc-x", H.fit_mlp(np.concatenate([x, x2], 1), y, len(labels), cfg, seed=1), below, 0.7)
    return IntentModel(labels, H.fit_mlp(x, y, len(labels), cfg, seed=0), H.fit_tfidf(texts, y, len(labels)), 0.25, 1.3,
                       H.fit_binary(x, y != labels.index("out_of_scope"), c=10.0),
                       H.fit_binary(x, y == labels.index("human_agent"), c=10.0), Thresholds(0.5, 0.5), second=second)


def _classifier(tmp_path, below: float, name: str = "enc-x") -> tuple[MiniLMIntentClassifier, list[str], IntentModel]:
    model = _model(below)
    save(model, tmp_path, config={"test": True}, metrics={})
    asked: list[str] = []
    clf = MiniLMIntentClassifier(KeywordEmbedder(), tmp_path)

    def encode(text: str) -> np.ndarray:
        asked.append(text)
        return ReversedEmbedder().encode([text])[0]

    clf.use_second(name, encode)
    return clf, asked, rounded(model)


TEXTS = ["the plastic card should arrive, right", "stolen card in the taxi yesterday", "hello hello and thanks again",
         "awful awful complaint to lodge"]


def test_runtime_second_opinion_matches_training(tmp_path):
    clf, asked, model = _classifier(tmp_path, below=1.01)  # every message is unsure: each asks
    x, x2 = KeywordEmbedder().encode(TEXTS), ReversedEmbedder().encode(TEXTS)
    expected = model.probs(x, TEXTS, emb2=x2)
    first_only = model.probs(x, TEXTS)
    changed = []
    for i, t in enumerate(TEXTS):
        got = clf.probabilities(t, x[i], x2[i])[0]
        np.testing.assert_allclose(got, expected[i], atol=1e-4)
        changed.append(np.abs(got - first_only[i]).max())
        clf.classify(t, embedding=x[i])
    assert max(changed) > 1e-2  # the second opinion did change the answers
    assert asked == TEXTS


def test_short_out_of_scope_and_person_requests_do_not_ask(tmp_path):
    clf, asked, _ = _classifier(tmp_path, below=1.01)
    for t in ("card arrive", "best pizza recipe and football scores", "please get me a human person now"):
        assert not clf.wants_second(t, KeywordEmbedder().encode([t])[0])
        clf.classify(t)
    assert asked == []


def test_a_sure_message_never_asks_and_a_foreign_encoder_is_not_used(tmp_path):
    clf, asked, _ = _classifier(tmp_path, below=0.0)
    for t in TEXTS:
        assert not clf.wants_second(t, KeywordEmbedder().encode([t])[0])
        clf.classify(t)
    assert asked == []
    clf, asked, _ = _classifier(tmp_path / "other", below=1.01, name="another-reranker")
    assert clf.second_encoder is None and not clf.wants_second("card arrive", KeywordEmbedder().encode(["card"])[0])
    clf.classify("card arrive")
    assert asked == []


def test_an_artefact_without_second_heads_ignores_the_encoder(tmp_path):
    model = dataclasses.replace(_model(0.5), second=None)
    save(model, tmp_path, config={"test": True}, metrics={})
    clf = MiniLMIntentClassifier(KeywordEmbedder(), tmp_path)
    assert clf.use_second("enc-x", lambda t: np.zeros(15, np.float32)) is False
    assert clf.classify("card arrive").intent == "card_arrival"


def test_the_pipeline_asks_the_second_encoder_off_the_event_loop():
    from assistant.core.pipeline import _understand

    class Unsure:
        def __init__(self, unsure: bool) -> None:
            self.unsure, self.thread = unsure, None

        def wants_second(self, text, embedding) -> bool:
            return self.unsure

        def classify(self, text, *, failed_turns=0, embedding=None):
            self.thread = threading.get_ident()
            return "signals"

    async def run(nlu):
        return await _understand(nlu, "hm", 0, np.zeros(3)), threading.get_ident()

    for unsure in (True, False):
        nlu = Unsure(unsure)
        result, loop_thread = asyncio.run(run(nlu))
        assert result == "signals" and (nlu.thread != loop_thread) is unsure


def test_a_failing_second_encoder_leaves_the_first_opinion(tmp_path, caplog):
    clf, _, _ = _classifier(tmp_path, below=1.01)
    first = clf.classify(TEXTS[0], embedding=KeywordEmbedder().encode([TEXTS[0]])[0], second=None)

    def broken(text: str) -> np.ndarray:
        raise RuntimeError("onnx session gone")

    clf.second_encoder = broken
    got = clf.classify(TEXTS[0])
    assert got.intent == first.intent and "second opinion failed (RuntimeError)" in caplog.text
    assert TEXTS[0] not in caplog.text  # never the customer's words
