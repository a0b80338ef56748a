"""Add, replace and delete knowledge-base documents at run time, then swap the index in.

One rebuild at a time; the build is incremental and the swap atomic (see knowledge_base/index.py).
With `uploads` and a bus, every change is also stored in the database and announced, so the
other API replicas follow it (assistant/kb_sync.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import uuid
from pathlib import Path

from assistant.bus import EventBus
from assistant.kb_sync import KB_TOPIC, KbChanged, KbUploads
from knowledge_base.documents import DOC_ID, SUPPORTED_SUFFIXES, DocumentError, load_file
from knowledge_base.embeddings import MiniLMEmbeddings
from knowledge_base.index import BuildReport, build_index, current_dir
from knowledge_base.retriever import LiveRetriever
from knowledge_base.types import Document

UPLOAD_DIR = "admin-uploads"
log = logging.getLogger(__name__)


class DocumentRejected(ValueError):
    pass


def _probe(doc_id: str, suffix: str, data: bytes) -> Document:
    """The upload parsed as the ingester will parse it; DocumentRejected if it cannot be."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / f"{doc_id}{suffix}"
        probe.write_bytes(data)
        try:
            return load_file(probe)
        except DocumentError as exc:
            raise DocumentRejected(str(exc)) from exc


class KnowledgeAdmin:
    def __init__(self, *, docs_dir: Path, index_dir: Path, embedder: MiniLMEmbeddings, retriever: LiveRetriever,
                 vector_cache: Path | None, uploads: KbUploads | None = None, bus: EventBus | None = None) -> None:
        self.docs_dir, self.index_dir, self.embedder = docs_dir, index_dir, embedder
        self.retriever, self.vector_cache = retriever, vector_cache
        self.uploads, self.bus, self.origin = uploads, bus, uuid.uuid4().hex
        self._lock = asyncio.Lock()

    def _store(self, path: Path, data: bytes | None) -> None:
        """Write (or delete, `data` None) a file of the knowledge-base folder, in the database first
        (a file outside the folder, from an index built elsewhere, stays this replica's own)."""
        root, resolved = self.docs_dir.resolve(), path.resolve()
        if self.uploads is not None and resolved.is_relative_to(root):
            self.uploads.record(str(resolved.relative_to(root)), data)
        if data is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    def sync_at_start(self) -> bool:
        """Bring the folder up to what the database holds (other replicas' changes); rebuild if
        anything changed. For start-up, before the event loop serves requests."""
        if self.uploads is None or not self.uploads.sync(self.docs_dir):
            return False
        build_index(self.docs_dir, self.index_dir, self.embedder, progress=False, vector_cache=self.vector_cache)
        self.retriever.reload()
        return True

    async def follow(self) -> None:
        """Follow the other replicas' changes, announced on the bus, for as long as the app runs."""
        uploads = self.uploads
        if uploads is None or self.bus is None:
            return
        async with self.bus.subscribe(KB_TOPIC) as queue:
            while True:
                change = KbChanged.from_message(await queue.get())
                if change is None or change.origin == self.origin:
                    continue
                try:
                    await self._apply(change, uploads)
                except Exception as exc:  # the next change or restart tries again
                    log.error("knowledge-base change from another replica not applied: %s: %s", type(exc).__name__, exc)

    async def _apply(self, change: KbChanged, uploads: KbUploads) -> None:
        async with self._lock:
            changed = await asyncio.to_thread(uploads.sync, self.docs_dir)
            current = current_dir(self.index_dir)
            if current is not None and current.name == change.version:  # the index folder is shared: load it
                if self.retriever.version != change.version:
                    await asyncio.to_thread(self.retriever.reload)
            elif changed:
                await self._rebuild(announce=False)
            log.info("knowledge base follows another replica: index %s", self.retriever.version)

    def documents(self) -> list[dict]:
        current = current_dir(self.index_dir)
        if current is None:  # no index built yet
            return []
        manifest = json.loads((current / "manifest.json").read_text())
        paths, titles = manifest.get("paths", {}), manifest.get("titles", {})
        return [{"doc_id": d, "title": titles.get(d, ""), "path": paths.get(d, ""), "sha256": h}
                for d, h in sorted(manifest["documents"].items())]

    def _path_of(self, doc_id: str) -> Path | None:
        for doc in self.documents():
            if doc["doc_id"] == doc_id and doc["path"]:
                return Path(doc["path"])
        return None

    async def put(self, doc_id: str, filename: str, data: bytes) -> tuple[str, BuildReport]:
        """Validate the upload as the ingester would, then store it and rebuild.

        Returns the id the document is indexed under (HTML/PDF/text ids get a format prefix).
        """
        suffix = Path(filename).suffix.lower()
        if not DOC_ID.match(doc_id):
            raise DocumentRejected("doc_id must be lowercase letters, digits and dashes")
        if suffix not in SUPPORTED_SUFFIXES:
            raise DocumentRejected(f"unsupported file type {suffix!r}: use one of {sorted(SUPPORTED_SUFFIXES)}")
        doc = await asyncio.to_thread(_probe, doc_id, suffix, data)  # PDF/HTML parsing: off the event loop
        if suffix in (".md", ".markdown") and doc.doc_id != doc_id:
            raise DocumentRejected(f"front matter id {doc.doc_id!r} does not match {doc_id!r}")
        async with self._lock:
            old = self._path_of(doc.doc_id)
            target = old if old is not None and old.suffix.lower() == suffix else self.docs_dir / UPLOAD_DIR / f"{doc_id}{suffix}"
            await asyncio.to_thread(self._store, target, data)
            if old is not None and old != target:
                await asyncio.to_thread(self._store, old, None)
            return doc.doc_id, await self._rebuild()

    async def delete(self, doc_id: str) -> BuildReport | None:
        async with self._lock:
            path = self._path_of(doc_id)
            if path is None:
                return None
            await asyncio.to_thread(self._store, path, None)
            return await self._rebuild()

    async def rebuild(self) -> BuildReport:
        async with self._lock:
            return await self._rebuild()

    async def _rebuild(self, *, announce: bool = True) -> BuildReport:
        if self.uploads is not None:  # another replica's change this one missed goes into the build too
            await asyncio.to_thread(self.uploads.sync, self.docs_dir)
        report = await asyncio.to_thread(build_index, self.docs_dir, self.index_dir, self.embedder,
                                         progress=False, vector_cache=self.vector_cache)
        version = await asyncio.to_thread(self.retriever.reload)
        if announce and self.bus is not None:
            await self.bus.publish(KB_TOPIC, KbChanged(self.origin, version).to_message())
        return report
