"""Second-stage relevance for quoted answers: all-mpnet-base-v2 over what MiniLM retrieved.

MiniLM (384-d, 6 layers) finds the passages fast enough for every message; a long, situational
customer question ("opened my account 2 weeks ago and deposited a 9000 cashiers check ... when
does the rest of it clear") is where it ranks a neighbouring passage or sentence first. mpnet
(768-d, 12 layers) reorders those passages and chooses the sentences to quote
(docs/decisions/0005-mpnet-reranker.md has the figures).

mpnet is cheap for one question but slow for every sentence of five passages, so every passage
and every quotable sentence (read under its heading) is encoded ahead of time:
`warm` runs when an index is loaded or built and encodes only texts it has never seen, keeping
their vectors by text hash in a VectorCache outside the clone. A text that is not warm (a passage
whose planted instructions were stripped) is encoded when asked, and kept in memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from knowledge_base.embeddings import MiniLMEmbeddings
from knowledge_base.index import VectorCache, text_key
from knowledge_base.retriever import RecentVectors
from knowledge_base.sentences import passage_text, sentences, under
from knowledge_base.types import Chunk, Passage


def rerank_texts(title: str, section: str, text: str) -> list[str]:
    """What the reranker scores for one passage: the passage, then each of its sentences under its heading."""
    return [passage_text(title, section, text), *(under(section, s) for s in sentences(text))]


class SentenceReranker:
    def __init__(self, encoder: MiniLMEmbeddings, *, cache_path: Path | None = None, name: str = "reranker") -> None:
        self._encoder, self._cache_path, self.name = encoder, cache_path, name
        self._vectors: dict[str, np.ndarray] = {}
        self._queries = RecentVectors(256)

    def warm(self, chunks: Iterable[Chunk], *, progress: bool = False) -> int:
        """Have the vectors of these chunks and their sentences at hand; returns how many were encoded."""
        texts = {text_key(t): t for c in chunks for t in rerank_texts(c.title, c.section, c.text)}
        todo = [k for k in texts if k not in self._vectors]
        store = VectorCache(self._cache_path, self._encoder.dim)  # opened here: warm may run on any thread
        found = store.load(todo)
        self._vectors.update(found)
        missing = sorted(k for k in todo if k not in found)
        if missing:
            fresh = self._encoder.encode([texts[k] for k in missing], show_progress=progress)
            store.save(dict(zip(missing, fresh, strict=False)))
            self._vectors.update(zip(missing, fresh, strict=False))
        return len(missing)

    def vectors(self, texts: list[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=False) if k not in self._vectors}
        if missing:
            self._vectors.update(zip(missing, self._encoder.encode(list(missing.values())), strict=False))
        return np.stack([self._vectors[k] for k in keys]) if keys else np.zeros((0, self._encoder.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """A question's vector; the last 256 are kept (a quote scores its passages, then their sentences)."""
        found = self._queries.get(text)
        return found if found is not None else self._queries.put(text, self._encoder.encode([text])[0])

    def relevance(self, question: str, texts: list[str]) -> np.ndarray:
        """Cosine of each text to the question."""
        return self.vectors(texts) @ self.embed_query(question)

    def rank(self, question: str, passages: list[Passage]) -> list[tuple[float, Passage]]:
        """The passages best first by the reranker's cosine, with that score."""
        scores = self.relevance(question, [passage_text(p.title, p.section, p.text) for p in passages])
        return sorted(zip((float(s) for s in scores), passages, strict=False), key=lambda sp: -sp[0])
