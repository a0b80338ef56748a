""""Try it": a question answered as it would be once a draft is published, without touching the live index.

A temporary folder holds links to every published file except the draft's document, plus the
draft itself; an index is built there (vectors of unchanged text come from the shared vector
cache, so only the draft's passages are encoded) and the real dialogue pipeline runs on it, with
a scratch conversation store, no hand-off and no audit record. Example: a draft FAQ "Are pets
allowed in branches?" answers that question with path "faq" and cites the draft.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from assistant.core.events import Citation, UserTurn
from assistant.core.pipeline import DialoguePipeline, complete
from assistant.storage.db import make_engine, migrate, session_factory
from assistant.storage.repository import ConversationRepository
from knowledge_base.index import build_index
from knowledge_base.retriever import HybridRetriever

log = logging.getLogger(__name__)
DRAFT_FOLDER = "kb-editor-draft"
KEEP = 2  # temporary indexes kept for repeated questions to the same draft


@dataclass(frozen=True, slots=True)
class TrialAnswer:
    text: str
    path: str
    citations: tuple[Citation, ...]
    cites_draft: bool
    build_s: float


@dataclass
class _Overlay:
    folder: tempfile.TemporaryDirectory
    retriever: HybridRetriever
    build_s: float


def _link_tree(docs_dir: Path, target: Path, skip: set[Path]) -> None:
    root = docs_dir.resolve()
    for path in root.rglob("*"):
        if path.is_file() and path.resolve() not in skip:
            link = target / path.relative_to(root)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path.resolve())


class DraftTrial:
    def __init__(self, *, docs_dir: Path, embedder, reranker, vector_cache: Path | None, base: DialoguePipeline) -> None:
        """`base`: the live pipeline, whose generator, NLU, policy, configuration and reranker the trial reuses."""
        self.docs_dir, self.embedder, self.reranker, self.vector_cache = docs_dir, embedder, reranker, vector_cache
        self.base = base
        self._overlays: OrderedDict[tuple[str, str], _Overlay] = OrderedDict()
        self._lock = asyncio.Lock()  # one temporary build at a time: they share the CPU with live turns
        self._scratch: tuple[tempfile.TemporaryDirectory, ConversationRepository] | None = None

    def _build(self, doc_id: str, content: str, replaces: list[Path]) -> _Overlay:
        t0 = time.perf_counter()
        folder = tempfile.TemporaryDirectory(prefix="kb-try-")
        docs = Path(folder.name) / "docs"
        _link_tree(self.docs_dir, docs, {p.resolve() for p in replaces})
        (docs / DRAFT_FOLDER).mkdir(parents=True, exist_ok=True)
        (docs / DRAFT_FOLDER / f"{doc_id}.md").write_text(content, encoding="utf-8")
        report = build_index(docs, Path(folder.name) / "index", self.embedder, progress=False, vector_cache=self.vector_cache)
        if any(Path(p).parent.name == DRAFT_FOLDER for p in report.failed):
            raise ValueError(f"the draft could not be indexed: {next(iter(report.failed.values()))}")
        retriever = HybridRetriever(Path(folder.name) / "index", self.embedder)
        if self.reranker is not None:
            self.reranker.warm(retriever.chunks)
        return _Overlay(folder, retriever, time.perf_counter() - t0)

    def _conversations(self) -> ConversationRepository:
        if self._scratch is None:
            folder = tempfile.TemporaryDirectory(prefix="kb-try-db-")
            engine = make_engine(f"sqlite:///{Path(folder.name) / 'try.db'}")
            migrate(engine)
            self._scratch = (folder, ConversationRepository(session_factory(engine)))
        return self._scratch[1]

    async def _overlay(self, live_version: str, doc_id: str, content: str, replaces: list[Path]) -> _Overlay:
        key = (live_version, hashlib.sha256(f"{doc_id}\n{content}".encode()).hexdigest())
        async with self._lock:
            found = self._overlays.get(key)
            if found is None:
                found = await asyncio.to_thread(self._build, doc_id, content, replaces)
                self._overlays[key] = found
                while len(self._overlays) > KEEP:
                    _, old = self._overlays.popitem(last=False)
                    shutil.rmtree(old.folder.name, ignore_errors=True)
            self._overlays.move_to_end(key)
            return found

    async def ask(self, question: str, *, live_version: str, doc_id: str, content: str, replaces: list[Path]) -> TrialAnswer:
        """The reply the assistant would give to `question` with the draft published."""
        overlay = await self._overlay(live_version, doc_id, content, replaces)
        conversations = await asyncio.to_thread(self._conversations)
        base = self.base
        pipeline = DialoguePipeline(knowledge=overlay.retriever, generator=base.answerer.generator, conversations=conversations,
                                    config=base.cfg, nlu=base.nlu, policy=base.policy, handoff=None,
                                    reranker=base.answerer.reranker, bank_name=base.answerer.bank_name)
        reply = await complete(pipeline, UserTurn(question, channel="api"))
        return TrialAnswer(reply.text, reply.path, reply.citations, any(c.doc_id == doc_id for c in reply.citations),
                           round(overlay.build_s, 2))

    def close(self) -> None:
        for overlay in self._overlays.values():
            shutil.rmtree(overlay.folder.name, ignore_errors=True)
        self._overlays.clear()
        if self._scratch is not None:
            self._scratch[1].close()
