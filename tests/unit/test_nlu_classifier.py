"""Runtime classifier over a tiny artefact trained here with the real training code and a
keyword embedder (the real MiniLM + committed artefact are in tests/integration)."""

import re

import numpy as np
import pytest

from assistant.nlu.classifier import TRAIN_COMMAND, HandoffRules, MiniLMIntentClassifier, MissingArtifactError
from assistant.nlu.tfidf import TfidfFeatures
from assistant.nlu.types import NluResult

H = pytest.importorskip("finetune.intent.heads")  # scikit-learn comes with sentence-transformers
from finetune.intent.model import IntentModel, Thresholds, save  # noqa: E402

VOCAB = ["card", "arrive", "stolen", "lost", "human", "person", "awful", "complaint", "hello", "bye", "thanks",
         "pizza", "football", "recipe"]
DATA = {
    "card_arrival": ["when will my card arrive", "my card did not arrive", "card arrive soon?"],
    "lost_or_stolen_card": ["my card was stolen", "I lost my card", "stolen card help"],
    "human_agent": ["talk to a human", "get me a person", "human please"],
    "complaint": ["this is awful", "I want to make a complaint", "awful complaint"],
    "greeting": ["hello", "hello there", "hello again"],
    "goodbye": ["bye", "bye bye", "ok bye"],
    "thanks": ["thanks", "thanks a lot", "many thanks"],
    "out_of_scope": ["pizza recipe", "football scores", "best pizza", "football recipe"],
}


class KeywordEmbedder:
    def __init__(self):
        self.calls = 0

    def encode(self, texts):
        self.calls += 1
        out = np.zeros((len(texts), len(VOCAB) + 1), dtype=np.float32)
        for i, t in enumerate(texts):
            words = re.findall(r"[a-z]+", t.lower())
            out[i, :-1] = [any(w.startswith(v) for w in words) for v in VOCAB]
            out[i, -1] = 0.3
            out[i] /= np.linalg.norm(out[i])
        return out


@pytest.fixture(scope="module")
def artefact(tmp_path_factory):
    labels = list(DATA)
    texts = [t for lab in labels for t in DATA[lab]]
    y = np.array([labels.index(lab) for lab in labels for _ in DATA[lab]])
    x = KeywordEmbedder().encode(texts)
    mlp = H.fit_mlp(x, y, len(labels), H.MlpConfig(hidden=32, epochs=80, batch_size=32, dropout=0.0, input_dropout=0.0,
                                                     label_smoothing=0.0, lr=3e-2), seed=0)
    model = IntentModel(
        labels, mlp, H.fit_tfidf(texts, y, len(labels)), 0.25, 1.0,
        H.fit_binary(x, y != labels.index("out_of_scope"), c=10.0), H.fit_binary(x, y == labels.index("human_agent"), c=10.0),
        Thresholds(in_scope=0.5, human=0.5),
    )
    out = tmp_path_factory.mktemp("art")
    save(model, out, config={"test": True}, metrics={})
    return out


def make(artefact, **kw):
    return MiniLMIntentClassifier(KeywordEmbedder(), artefact, **kw)


def test_missing_artefact_names_the_training_command(tmp_path):
    with pytest.raises(MissingArtifactError) as err:
        MiniLMIntentClassifier(KeywordEmbedder(), tmp_path / "none")
    assert TRAIN_COMMAND in str(err.value) and "config.json" in str(err.value)


def test_wrong_format_is_refused(artefact, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(artefact, bad)
    (bad / "config.json").write_text('{"format": 99}')
    with pytest.raises(MissingArtifactError, match="format 99"):
        MiniLMIntentClassifier(KeywordEmbedder(), bad)


def test_result_shape_and_probabilities(artefact):
    r = make(artefact).classify("when will my card arrive")
    assert isinstance(r, NluResult)
    assert r.intent == "card_arrival" and r.in_scope and not r.human_request
    assert len(r.top) == 5 and r.top[0][0] == r.intent and r.confidence == r.top[0][1]
    assert all(a[1] >= b[1] for a, b in zip(r.top, r.top[1:], strict=False)) and 0 < sum(c for _, c in r.top) <= 1.0001
    assert (r.handoff_recommended, r.reason) == (False, "")


def test_precomputed_embedding_skips_the_encoder(artefact):
    clf = make(artefact)
    vec = KeywordEmbedder().encode(["get me a person"])[0]
    r = clf.classify("get me a person", embedding=vec)
    assert clf.embedder.calls == 0
    assert r.human_request and r.handoff_recommended and r.reason == "explicit request for a human"


def test_out_of_scope_is_refused_without_handoff(artefact):
    r = make(artefact).classify("best football pizza recipe")
    assert not r.in_scope and r.intent == "out_of_scope"
    assert (r.handoff_recommended, r.reason) == (False, "out of scope")


def test_urgent_complaint_and_frustration_reasons(artefact):
    clf = make(artefact)
    urgent = clf.classify("my card was stolen")
    # An urgent intent is answered with an offer of a person: no hand-off by itself.
    assert urgent.reason == "urgent: lost_or_stolen_card" and urgent.offer_agent and not urgent.handoff_recommended
    c = clf.classify("this is awful, I want to make a complaint")
    assert c.intent == "complaint" and c.sentiment == "negative" and c.reason == "complaint with negative sentiment"
    f = clf.classify("when will my card arrive", failed_turns=3)
    assert f.handoff_recommended and f.reason == "customer frustration" and f.frustration >= 0.7


def test_rules_are_configurable(artefact):
    clf = make(artefact, rules=HandoffRules(urgent_intents=frozenset(), frustration_threshold=1.1, low_confidence=0.9999))
    r = clf.classify("my card was stolen", failed_turns=3)
    # Low confidence asks which of the top intents is meant; it never hands over by itself.
    assert not r.handoff_recommended and r.reason == "low confidence: clarify" and r.route == "clarify"


def test_runtime_tfidf_matches_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = ["Where is my card?", "card card arrive", "I lost my card, help!", "exchange rate for euros", "my card arrive"]
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=H.TOKEN_PATTERN).fit(docs)
    vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    feats = TfidfFeatures(vocab, vec.idf_)
    for text in docs + ["my CARD card arrive arrive arrive", "nothing known", ""]:
        dense = np.zeros(len(vocab), dtype=np.float32)
        idx, w = feats.sparse(text)
        dense[idx] = w
        np.testing.assert_allclose(dense, vec.transform([text]).toarray()[0], atol=1e-6)
        head = H.TfidfHead(vec.vocabulary_, vec.idf_, np.eye(len(vocab), dtype=np.float32), np.zeros(len(vocab), np.float32))
        np.testing.assert_allclose(H.tfidf_logits(head, [text])[0], dense, atol=1e-6)


def test_word_features_of_the_human_head_match_training_and_find_a_request_inside_a_question(tmp_path):
    """The runtime adds the human head's word features exactly as training scores them, so a
    request joined to a question ("the fee confuses me, can I speak with somebody") is found."""
    from finetune.intent.model import IntentModel, Thresholds
    from finetune.intent.signals import fit_human

    labels = list(DATA)
    texts = [t for lab in labels for t in DATA[lab]]
    y = np.array([labels.index(lab) for lab in labels for _ in DATA[lab]])
    extra_pos = ["can I speak with somebody", "speak with somebody please", "the card is lost, speak with somebody",
                 "I want to speak with somebody", "card arrive? speak with somebody"]
    extra_neg = ["send money to somebody", "somebody stole my card", "pay somebody", "card for somebody", "bye somebody"]
    all_texts = texts + extra_pos + extra_neg
    x = KeywordEmbedder().encode(all_texts)
    pos = np.concatenate([y == labels.index("human_agent"), np.ones(5, bool), np.zeros(5, bool)])
    human, words = fit_human(x, all_texts, pos, c=10.0, seed=0)
    mlp = H.fit_mlp(x[: len(y)], y, len(labels), H.MlpConfig(hidden=16, epochs=20), seed=0)
    model = IntentModel(labels, mlp, H.fit_tfidf(texts, y, len(labels)), 0.25, 1.0,
                        H.fit_binary(x[: len(y)], y != labels.index("out_of_scope"), c=10.0), human,
                        Thresholds(in_scope=0.5, human=0.5), words)
    save(model, tmp_path, config={"test": True}, metrics={})
    clf = make(tmp_path)
    text = "when will my card arrive? can I speak with somebody"
    emb = KeywordEmbedder().encode([text])[0]
    assert abs(clf.probabilities(text, emb)[2] - float(model.human_prob(emb[None, :], [text])[0])) < 1e-4
    assert clf.classify(text).human_request and not clf.classify("send money to somebody").human_request


def test_word_features_of_the_scope_head_match_training(tmp_path):
    """The runtime adds the in-scope head's word features exactly as training scores them."""
    from finetune.intent.evaluate import Encoded
    from finetune.intent.model import IntentModel, Thresholds
    from finetune.intent.scope import ScopeGroup, fit_scope

    labels = list(DATA)
    texts = [t for lab in labels for t in DATA[lab]]
    y = np.array([labels.index(lab) for lab in labels for _ in DATA[lab]])
    own_out = ["book a table for dinner", "a table by the window", "book the later flight", "flight to rome"]
    own_in = ["send my card money to a friend", "card for my friend", "money to my friend please", "friend card"]
    enc = lambda ts: Encoded(ts, KeywordEmbedder().encode(ts))  # noqa: E731
    groups = [ScopeGroup(enc(texts), y != labels.index("out_of_scope"), 1.0), ScopeGroup(enc(own_in), True, 2.0),
              ScopeGroup(enc(own_out), False, 2.0)]
    scope, words = fit_scope(groups, c=10.0, seed=0)
    x = KeywordEmbedder().encode(texts)
    mlp = H.fit_mlp(x, y, len(labels), H.MlpConfig(hidden=16, epochs=20), seed=0)
    model = IntentModel(labels, mlp, H.fit_tfidf(texts, y, len(labels)), 0.25, 1.0, scope,
                        H.fit_binary(x, y == labels.index("human_agent"), c=10.0), Thresholds(in_scope=0.5, human=0.5),
                        scope_words=words)
    save(model, tmp_path, config={"test": True}, metrics={})
    clf = make(tmp_path)
    assert clf.heads.scope_tfidf is not None
    for text in ("book a table for my friend", "when will my card arrive", "flight to rome"):
        emb = KeywordEmbedder().encode([text])[0]
        assert abs(clf.probabilities(text, emb)[1] - float(model.scope_prob(emb[None, :], [text])[0])) < 1e-4
