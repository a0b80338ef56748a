"""The real MiniLM encoder shared by concurrent turns."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def test_concurrent_texts_share_batches_and_get_their_own_vectors(services):
    embedder = services.embedder
    texts = [f"how do I {verb} my {thing}?" for verb in ("close", "open", "freeze", "replace")
             for thing in ("card", "account", "savings", "loan", "CD", "app")]
    alone = embedder.encode(texts)
    calls, real_encode, lock = [], embedder.encode, threading.Lock()

    def counting(batch, **kw):
        with lock:
            calls.append(len(batch))
        return real_encode(batch, **kw)

    embedder.encode = counting
    try:
        with ThreadPoolExecutor(8) as pool:
            vectors = list(pool.map(embedder.embed_one, texts))
    finally:
        del embedder.encode
    assert sum(calls) == len(texts)  # every text encoded once
    assert max(calls) > 1  # callers that arrived while the model was busy shared a batch
    assert len(calls) < len(texts)
    for got, want in zip(vectors, alone):  # each caller gets its own text's vector
        assert float(np.dot(got, want)) > 0.9999


def test_a_failing_batch_fails_its_callers_and_the_next_call_works(services):
    embedder = services.embedder

    def broken(batch, **kw):
        raise RuntimeError("encoder down")

    embedder.encode = broken
    try:
        try:
            embedder.embed_one("what is the routing number?")
            raise AssertionError("expected the encoder's error")
        except RuntimeError as exc:
            assert "encoder down" in str(exc)
    finally:
        del embedder.encode
    assert embedder.embed_one("what is the routing number?").shape == (embedder.dim,)
