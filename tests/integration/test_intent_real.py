"""The committed intent artefact with the real MiniLM, through build_services and /v1/intent."""

import json

import numpy as np
import pytest

from assistant.nlu.classifier import DEFAULT_ARTIFACT
from finetune.intent.data import EXTRA_INTENTS, HUMAN_TEST_FILE, OOD_TEST_FILE, build_dataset, load_yaml_lists

# Work in progress: the artefact is produced by `python -m finetune.intent.train` and was not
# finished when this was committed; these tests run as soon as it is committed.
pytestmark = pytest.mark.skipif(not (DEFAULT_ARTIFACT / "config.json").exists(),
                                reason="intent artefact not trained yet (python -m finetune.intent.train)")


def classify_all(services, texts):
    vecs = services.embedder.encode(list(texts))  # one batch; classify reuses each vector
    return [services.nlu.classify(t, embedding=v) for t, v in zip(texts, vecs, strict=False)]


def test_artefact_is_small_and_documents_its_run():
    size = sum(f.stat().st_size for f in DEFAULT_ARTIFACT.iterdir() if f.is_file())
    assert size < 6_000_000  # 2.3 MB of it: the second opinion's MLP over [MiniLM, mpnet] (decision 0020)
    cfg = json.loads((DEFAULT_ARTIFACT / "config.json").read_text())
    metrics = json.loads((DEFAULT_ARTIFACT / "metrics.json").read_text())
    assert len(cfg["labels"]) == 77 + len(EXTRA_INTENTS) and cfg["training"]["seed"] == 13
    assert metrics["held_out"]["banking77_accuracy"] >= 0.92
    assert cfg["second"]["encoder"] == "all-mpnet-base-v2" and 0.0 < cfg["second"]["below"] < 1.0
    assert metrics["validation"]["banking77_accuracy_with_second"] > metrics["validation"]["banking77_accuracy"]


def test_held_out_banking77_rows_are_classified(services, settings):
    if not (settings.nlu.banking77_dir / "train.csv").exists():
        pytest.skip(f"BANKING77 not found at {settings.nlu.banking77_dir} (set BANK_NLU__BANKING77_DIR)")
    cfg = json.loads((DEFAULT_ARTIFACT / "config.json").read_text())["training"]
    splits, _ = build_dataset(settings.nlu.banking77_dir, test_frac=cfg["hparams"]["test_frac"],
                              val_frac=cfg["hparams"]["val_frac"], seed=cfg["seed"])
    rows = [e for e in splits.test if e.source == "banking77"][::5]  # a fixed 300-row sample never trained on
    results = classify_all(services, [e.text for e in rows])
    acc = np.mean([r.intent == e.label for r, e in zip(results, rows, strict=False)])
    kept = np.mean([r.in_scope for r in results])
    assert acc >= 0.88, acc
    assert kept >= 0.95, kept


def test_out_of_domain_questions_are_refused(services):
    sets = load_yaml_lists(OOD_TEST_FILE)
    ood = classify_all(services, sets["out_of_scope"])
    refused = np.mean([not r.in_scope for r in ood])
    assert refused >= 0.90, refused
    # Refused as out of scope, or sent to a route of its own (advice, a product not offered, please rephrase).
    assert all(r.intent == "out_of_scope" and (r.reason == "out of scope" or r.route in ("advice", "not_offered", "rephrase"))
               for r in ood if not (r.in_scope or r.human_request))
    kept = np.mean([r.in_scope for r in classify_all(services, sets["in_scope"])])
    assert kept >= 0.95, kept


def test_requests_for_a_human_are_detected(services):
    sets = load_yaml_lists(HUMAN_TEST_FILE)
    pos = classify_all(services, sets["positive"])
    neg = classify_all(services, sets["negative"])
    recall = np.mean([r.human_request for r in pos])
    fpr = np.mean([r.human_request for r in neg])
    assert recall >= 0.95 and fpr <= 0.05, (recall, fpr)
    assert all(r.handoff_recommended and r.reason == "explicit request for a human" for r in pos if r.human_request)
    for text in ("this conversation is going nowhere", "I don't want to share this with a machine",
                 "can I speak to someone real"):
        assert services.nlu.classify(text).human_request, text


def test_intent_endpoint(client):
    r = client.post("/v1/intent", json={"text": "I think someone stole my card, what do I do?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["intent"] in ("lost_or_stolen_card", "compromised_card") and body["in_scope"] is True
    assert len(body["top"]) == 5 and body["top"][0] == {"intent": body["intent"], "confidence": body["confidence"]}
    # Urgent: answered with an offer of a person, not handed over (issue 29).
    assert body["handoff_recommended"] is False and body["offer_agent"] is True and body["reason"].startswith("urgent: ")
    assert set(body) >= {"sentiment", "frustration", "human_request"}

    human = client.post("/v1/intent", json={"text": "let me talk to a real person"}).json()
    assert human["handoff_recommended"] and human["reason"] == "explicit request for a human"
    off = client.post("/v1/intent", json={"text": "what's a good recipe for lasagna?"}).json()
    assert off["in_scope"] is False and off["intent"] == "out_of_scope" and not off["handoff_recommended"]
    angry = client.post("/v1/intent", json={"text": "where is my card", "failed_turns": 3}).json()
    assert angry["frustration"] >= 0.7 and angry["handoff_recommended"]


@pytest.mark.parametrize("payload", [{"text": ""}, {"text": "   \n"}, {"text": "x" * 4001}, {}, {"text": "hi", "extra": 1}])
def test_intent_endpoint_validates(client, payload):
    r = client.post("/v1/intent", json=payload)
    assert r.status_code == 422
    assert "x" * 50 not in r.text  # input is never echoed back
