"""Loading the knowledge-base index never unpickles: a planted pickle in the index folder is not run."""

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge_base.index import build_index, current_dir
from knowledge_base.retriever import HybridRetriever, LiveRetriever

FAISS_FILE = Path("faiss") / "index.faiss"
DOCS = Path(__file__).resolve().parents[2] / "knowledge_base" / "docs" / "products"


class HashingEmbedder:
    """Bag-of-words vectors by hashing (the index files, not the model, are under test)."""

    dim = 64
    has_fast = False

    def encode(self, texts, *, show_progress=False):
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, hash(w) % self.dim] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)

    def embed_one(self, text, *, fast=False):
        return self.encode([text])[0]

    def embed_documents(self, texts):
        return self.encode(texts).tolist()

    def embed_query(self, text):
        return self.embed_one(text).tolist()


class Planted:
    """Unpickling this creates a file: proof that the loader ran code from the index folder."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.fixture
def index(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    build_index(docs, tmp_path / "index", HashingEmbedder(), progress=False)
    return tmp_path / "index"


def test_the_build_writes_no_pickle(index):
    version = current_dir(index)
    assert (version / FAISS_FILE).exists()
    assert not list(version.rglob("*.pkl"))


def test_a_planted_pickle_is_never_loaded(index, tmp_path):
    marker = tmp_path / "code-ran"
    (current_dir(index) / "faiss" / "index.pkl").write_bytes(pickle.dumps(Planted(marker)))
    embedder = HashingEmbedder()
    retriever = HybridRetriever(index, embedder)
    assert not marker.exists()
    hits = retriever.search("annual fee", k=3, vector=embedder.embed_one("annual fee"))
    assert hits and all(h.doc_id for h in hits)


def test_an_index_file_that_does_not_match_its_chunks_is_refused(index):
    (current_dir(index) / "chunks.jsonl").write_text(
        "\n".join((current_dir(index) / "chunks.jsonl").read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(ValueError, match="rebuild the index"):
        HybridRetriever(index, HashingEmbedder())


def test_the_faq_entries_come_in_the_index_order(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DOCS.parent / "faq", docs / "faq")
    build_index(docs, tmp_path / "index", HashingEmbedder(), progress=False)
    stored = json.loads((current_dir(tmp_path / "index") / "faq.json").read_text())["entries"]
    entries = LiveRetriever(tmp_path / "index", HashingEmbedder()).faq_entries
    assert len(stored) > 3
    assert [(e.faq_id, e.title) for e in entries] == [(e["faq_id"], e["title"]) for e in stored]
