"""Hybrid retrieval: dense FAISS (LangChain) + BM25 (bm25s), fused by reciprocal rank."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from knowledge_base.embeddings import MiniLMEmbeddings
from knowledge_base.index import current_dir, load_vector_store
from knowledge_base.types import Chunk, FaqEntry, FaqMatch, Passage

if TYPE_CHECKING:
    from knowledge_base.rerank import SentenceReranker

RRF_K = 60
_WORD = re.compile(r"[a-z0-9$%.]+(?:'[a-z]+)?")
_STOP = frozenset(
    ["a", "an", "the", "is", "are", "was", "were", "be", "been", "to", "of", "in", "on", "for", "and", "or", "my", "your", "our", "i", "you", "we", "it", "this", "that", "do", "does", "did", "can", "could", "would", "should", "will", "what", "how", "when", "where", "which", "who", "why", "me", "with", "at", "by", "from", "if", "so", "not", "no", "any", "there", "their", "them", "they", "he", "she", "his", "her", "us", "am", "have", "has", "had", "about", "please"]
)


def tokenize(text: str) -> list[str]:
    return [w.strip(".") for w in _WORD.findall(text.lower()) if w.strip(".") and w not in _STOP]


def _bm25(corpus: list[list[str]]):
    """BM25 over sparse matrices (bm25s): milliseconds per query even at a million chunks."""
    import bm25s

    index = bm25s.BM25()
    index.index(corpus, show_progress=False)
    return index


class IndexNotBuiltError(FileNotFoundError):
    pass


def encoder_key(text: str) -> str:
    """The text as the uncased MiniLM tokenizer sees it: case and runs of spaces do not change its vector."""
    return " ".join(text.lower().split())


class RecentVectors:
    """The last `size` query vectors by key, shared by threads and the event loop."""

    def __init__(self, size: int) -> None:
        self._size, self._lock = size, threading.Lock()
        self._items: OrderedDict[Hashable, np.ndarray] = OrderedDict()

    def get(self, key: Hashable) -> np.ndarray | None:
        with self._lock:
            vector = self._items.get(key)
            if vector is not None:
                self._items.move_to_end(key)
            return vector

    def put(self, key: Hashable, vector: np.ndarray) -> np.ndarray:
        vector.flags.writeable = False  # shared by every turn that asks the same: nobody may change it
        with self._lock:
            self._items[key] = vector
            self._items.move_to_end(key)
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return vector


class HybridRetriever:
    """Dense (FAISS) + BM25 search and FAQ matching over a built index folder; readers use it through LiveRetriever."""

    def __init__(self, index_dir: Path, embedder: MiniLMEmbeddings) -> None:
        root = current_dir(index_dir)
        if root is None or not (root / "manifest.json").exists():
            raise IndexNotBuiltError(f"no knowledge-base index in {index_dir}: run `bankassist kb build`")
        self.version = root.name
        self._embedder = embedder
        # The same questions come again and again ("what is your routing number?"): an LRU
        # of query vectors saves the encoder's CPU time on the hot FAQ path.
        self._recent = RecentVectors(4096)
        self.chunks = [Chunk(**json.loads(line)) for line in (root / "chunks.jsonl").open()]
        self._store = load_vector_store(root, embedder, self.chunks)  # no pickle (knowledge_base/index.py)
        self._by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self._by_doc: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunks):
            self._by_doc.setdefault(c.doc_id, []).append(i)
        self._vectors = np.load(root / "chunks_vectors.npy", mmap_mode="r")  # paged in on demand
        self._bm25 = _bm25([tokenize(c.embed_text) for c in self.chunks])
        self.vocabulary = frozenset(w for c in self.chunks for w in tokenize(c.embed_text))
        faq = json.loads((root / "faq.json").read_text())
        entries = [FaqEntry(**{**e, "questions": tuple(e["questions"])}) for e in faq["entries"]]
        faq_vectors = np.load(root / "faq_vectors.npy")
        faq_vectors.flags.writeable = False
        self.faq = FaqMatcher(entries, faq["questions"], faq_vectors)
        # The KB's own FAQ questions and titles (what a suggestion chip sends) were encoded at
        # build time: a customer who asks one of them costs the encoder nothing.
        self._known = {encoder_key(q): faq_vectors[i] for i, (_, q) in enumerate(faq["questions"])}

    def embed(self, text: str, *, fast: bool = False) -> np.ndarray:
        """The text's unit vector; `fast`: from the int8 query graph (the FAQ screen), where there is one."""
        key, found = self._cached(text, fast)
        return found if found is not None else self._recent.put(key, self._embedder.embed_one(key[0], fast=key[1]))

    async def aembed(self, text: str, *, fast: bool = False) -> np.ndarray:
        """`embed` for the event loop: waits for the encoder thread without holding a worker thread."""
        key, found = self._cached(text, fast)
        if found is not None:
            return found
        return self._recent.put(key, await asyncio.wrap_future(self._embedder.submit(key[0], fast=key[1])))

    def _cached(self, text: str, fast: bool) -> tuple[tuple[str, bool], np.ndarray | None]:
        """The cache key (encoder key, graph) and the vector already known for it, if any."""
        key = (encoder_key(text), fast and self._embedder.has_fast)
        known = self._known.get(key[0])  # exact build-time vectors serve both graphs
        return key, known if known is not None else self._recent.get(key)

    def embed_many(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of several texts in one batch (the sentences of a quoted answer)."""
        return self._embedder.encode(texts)

    def faq_candidates(self, vector: np.ndarray, n: int = 4) -> list[FaqMatch]:
        return self.faq.ranked(vector, n)

    def knows(self, words: list[str]) -> bool:
        """Every word occurs in the knowledge base ("online" does; "tickets", "cab" do not)."""
        return all(w in self.vocabulary for w in words)

    def document_passages(self, doc_id: str, vector: np.ndarray) -> list[Passage]:
        """Every chunk of one document, in document order, scored against the query vector."""
        return [self._passage(i, vector) for i in self._by_doc.get(doc_id, ())]

    def _passage(self, i: int, vector: np.ndarray, fused: float = 0.0) -> Passage:
        c = self.chunks[i]
        return Passage(chunk_id=c.chunk_id, doc_id=c.doc_id, title=c.title, section=c.section, category=c.category,
                       source=c.source, text=c.text, score=float(self._vectors[i] @ vector), rank_score=fused)

    def search(
        self, query: str, k: int = 5, category: str | None = None, vector: np.ndarray | None = None,
        mode: str = "hybrid",
    ) -> list[Passage]:
        """Best k passages. mode: 'hybrid' (RRF of dense and BM25), 'dense' or 'bm25'."""
        qv = self.embed(query) if vector is None else vector
        pool = max(k * 4, 20)
        ranks: dict[str, float] = {}
        lists = []
        if mode in ("hybrid", "dense"):
            lists.append(self._dense(qv, pool, category))
        if mode in ("hybrid", "bm25"):
            lists.append(self._lexical(query, pool, category))
        for ranked in lists:
            for rank, cid in enumerate(ranked):
                ranks[cid] = ranks.get(cid, 0.0) + 1.0 / (RRF_K + rank)
        best = sorted(ranks.items(), key=lambda kv: -kv[1])[:k]
        return [self._passage(self._by_id[cid], qv, fused) for cid, fused in best]

    def _dense(self, qv: np.ndarray, pool: int, category: str | None) -> list[str]:
        flt = {"category": category} if category else None
        hits = self._store.similarity_search_with_score_by_vector(qv.tolist(), k=pool, filter=flt, fetch_k=pool * 4)
        return [doc.metadata["chunk_id"] for doc, _ in hits]

    def _lexical(self, query: str, pool: int, category: str | None) -> list[str]:
        tokens = tokenize(query)
        if not tokens:
            return []
        k = min(len(self.chunks), pool * (8 if category else 1))
        docs, scores = self._bm25.retrieve([tokens], k=k, show_progress=False, n_threads=1)
        out: list[str] = []
        for i, score in zip(docs[0], scores[0], strict=False):
            if score <= 0 or len(out) >= pool:
                break
            if not category or self.chunks[i].category == category:
                out.append(self.chunks[i].chunk_id)
        return out


class FaqMatcher:
    """Nearest FAQ question variant by cosine similarity."""

    def __init__(self, entries: list[FaqEntry], questions: list[list[str]], vectors: np.ndarray) -> None:
        self._entries = {e.faq_id: e for e in entries}
        self._questions = [(fid, q) for fid, q in questions]
        self._vectors = vectors

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entries(self) -> list[FaqEntry]:
        """Every FAQ entry, in index order."""
        return list(self._entries.values())

    def ranked(self, vector: np.ndarray, n: int = 5) -> list[FaqMatch]:
        if not self._questions:
            return []
        sims = self._vectors @ vector
        seen: set[str] = set()
        out: list[FaqMatch] = []
        for i in np.argsort(-sims):
            fid, q = self._questions[i]
            if fid in seen:
                continue
            seen.add(fid)
            out.append(FaqMatch(entry=self._entries[fid], score=float(sims[i]), matched_question=q))
            if len(out) >= n:
                break
        return out


class LiveRetriever:
    """The retriever readers use; `reload()` swaps in a newly built index in one assignment.

    Every call reads `current` once, so one call never sees a half index. A turn makes several
    calls (embed, search, FAQ candidates, document passages), and a reload between two of them
    gives the later ones the new index; hold `current` for calls that must agree.
    """

    def __init__(self, index_dir: Path, embedder: MiniLMEmbeddings, *, reranker: SentenceReranker | None = None) -> None:
        """`reranker`: warmed with every index before readers see it (its vectors of the new passages)."""
        self._index_dir, self._embedder, self._reranker = index_dir, embedder, reranker
        self.current = self._load()

    def _load(self) -> HybridRetriever:
        loaded = HybridRetriever(self._index_dir, self._embedder)
        if self._reranker is not None:
            self._reranker.warm(loaded.chunks)
        return loaded

    @property
    def version(self) -> str:
        return self.current.version

    @property
    def faq_entries(self) -> list[FaqEntry]:
        return self.current.faq.entries

    def reload(self) -> str:
        self.current = self._load()
        return self.current.version

    def embed(self, text: str, *, fast: bool = False) -> np.ndarray:
        return self.current.embed(text, fast=fast)

    async def aembed(self, text: str, *, fast: bool = False) -> np.ndarray:
        return await self.current.aembed(text, fast=fast)

    def embed_many(self, texts: list[str]) -> np.ndarray:
        return self.current.embed_many(texts)

    def search(self, query: str, k: int = 5, category: str | None = None, vector: np.ndarray | None = None,
               mode: str = "hybrid") -> list[Passage]:
        return self.current.search(query, k, category, vector, mode)

    def faq_candidates(self, vector: np.ndarray, n: int = 4) -> list[FaqMatch]:
        return self.current.faq_candidates(vector, n)

    def document_passages(self, doc_id: str, vector: np.ndarray) -> list[Passage]:
        return self.current.document_passages(doc_id, vector)

    def knows(self, words: list[str]) -> bool:
        return self.current.knows(words)
