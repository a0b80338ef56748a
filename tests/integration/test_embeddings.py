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
    for got, want in zip(vectors, alone, strict=False):  # each caller gets its own text's vector
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


def test_quoted_answer_picks_the_sentence_that_answers_by_meaning(services):
    """"Deadline" is not a word of "rescind until midnight of the third business day"; the
    encoder still ranks that sentence first, though it sits in the last passage."""
    from assistant.core.grounding import extractive_answer
    from tests.fakes import passage

    scope = passage("reg-z-right-of-rescission", "Right of rescission", (
        "The right of rescission lets a consumer cancel certain loans secured by their principal home. "
        "It applies to a refinance with a new lender, a HELOC or a home equity loan."))
    deadline = passage("reg-z-right-of-rescission", "Right of rescission", (
        "Under Regulation Z, you can rescind until midnight of the third business day after the loan is consummated. "
        "Each owner whose home secures the loan has the right."), section="Deadline")
    fees = passage("prod-mortgage", "Mortgages", "Our mortgage application fee is $0. Rate locks last 60 days.")
    kb = services.retriever

    def relevance(question, sents):
        return kb.embed_many(sents) @ kb.embed(question)

    question = "what is the deadline to rescind"
    answer, cites = extractive_answer(question, [scope, fees, deadline], max_sentences=1,
                                      relevance=relevance, wants_figure=True)
    assert "midnight of the third business day" in answer
    assert [c.doc_id for c in cites] == ["reg-z-right-of-rescission"]
    words_only, _ = extractive_answer(question, [scope, fees, deadline], max_sentences=1)
    assert "midnight" not in words_only  # the old word-overlap choice, for contrast


def test_the_kbs_faq_questions_use_their_build_time_vectors(services):
    kb = services.retriever.current
    title = "How long do transfers to another bank take?"  # a chip's text: FAQ titles are questions too
    calls = []
    real_encode = services.embedder.encode
    services.embedder.encode = lambda batch, **kw: calls.append(batch) or real_encode(batch, **kw)
    try:
        known = kb.embed(title)
        assert kb.embed("  how long do TRANSFERS to another bank take? ") is known  # case and spacing do not matter
    finally:
        del services.embedder.encode
    assert calls == []  # the encoder was not asked
    assert float(np.dot(known, real_encode([title])[0])) > 0.9999  # and the vector is the encoder's own


def test_the_onnx_encoder_gives_torchs_vectors_and_its_int8_copy_stays_close(services, settings):
    """The exported graph reproduces sentence-transformers on torch; the int8 query graph stays within
    its checked bound, and gives a text the same vector whether it is encoded alone or under load."""
    from sentence_transformers import SentenceTransformer

    from assistant.assets import resolve_embedding, resolve_onnx_encoder
    from knowledge_base.onnx_encoder import MIN_COSINE_INT8, OnnxEncoder

    model_dir = resolve_embedding(settings.retrieval.embedding_model)
    texts = ["What is the wire cut-off time?", "i lost my card", "Can I stop a payment I set up with my gym?",
             "How long do I have to dispute a charge on my credit card statement? " * 10]
    torch_vectors = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True).encode(
        texts, normalize_embeddings=True)
    fp32 = OnnxEncoder(resolve_onnx_encoder(model_dir, settings.models_cache), model_dir).encode(texts)
    assert np.min((fp32 * torch_vectors).sum(axis=1)) > 0.9999
    assert services.embedder.runtime == "onnx+int8 fast"
    int8 = services.embedder.encode_fast(texts)
    assert np.min((int8 * fp32).sum(axis=1)) >= MIN_COSINE_INT8
    for text, vector in zip(texts, int8, strict=False):  # batch or alone: the same vector
        assert np.array_equal(services.embedder.encode_fast([text])[0], vector)


def test_the_event_loop_waits_for_the_encoder_thread(services):
    import asyncio

    kb = services.retriever.current
    texts = [f"can I get a replacement card within {n} days?" for n in range(12)]

    async def many(fast: bool):
        return await asyncio.gather(*[kb.aembed(t, fast=fast) for t in texts])

    exact, fast = asyncio.run(many(False)), asyncio.run(many(True))
    for text, vector, quick in zip(texts, exact, fast, strict=False):
        assert kb.embed(text) is vector and kb.embed(text, fast=True) is quick  # cached, per graph
        assert float(vector @ services.embedder.encode([text])[0]) > 0.9999
        assert np.array_equal(quick, services.embedder.encode_fast([text])[0])


def test_a_clear_faq_match_is_decided_on_the_fast_vector_and_anything_else_is_embedded_exactly(services):
    import asyncio

    pipeline, embedder = services.pipeline, services.embedder
    calls = {"exact": 0, "fast": 0}
    real_exact, real_fast = embedder.encode, embedder.encode_fast

    def exact(batch, **kw):
        calls["exact"] += len(batch)
        return real_exact(batch, **kw)

    def fast(batch):
        calls["fast"] += len(batch)
        return real_fast(batch)

    embedder.encode, embedder.encode_fast = exact, fast
    try:
        faq = asyncio.run(pipeline._vector("what is the routing number for larkspur bank"))
        assert calls == {"exact": 0, "fast": 1}
        other = asyncio.run(pipeline._vector("how long can a bank hold a check I deposited at another bank's atm"))
        assert calls == {"exact": 1, "fast": 2}
    finally:
        del embedder.encode, embedder.encode_fast
    assert services.retriever.faq_candidates(faq, 1)[0].entry.faq_id == "faq-routing-number"
    assert float(other @ real_exact(["how long can a bank hold a check I deposited at another bank's atm"])[0]) > 0.9999
