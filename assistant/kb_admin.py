"""Add, replace and delete knowledge-base documents at run time, then swap the index in.

One rebuild at a time; the build is incremental and the swap atomic (see knowledge_base/index.py).
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from pathlib import Path

from knowledge_base.documents import SUPPORTED_SUFFIXES, DocumentError, load_file
from knowledge_base.embeddings import MiniLMEmbeddings
from knowledge_base.index import BuildReport, build_index, current_dir
from knowledge_base.retriever import LiveRetriever

DOC_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,80}$")
UPLOAD_DIR = "admin-uploads"


class DocumentRejected(ValueError):
    pass


class KnowledgeAdmin:
    def __init__(self, *, docs_dir: Path, index_dir: Path, embedder: MiniLMEmbeddings, retriever: LiveRetriever,
                 vector_cache: Path | None) -> None:
        self.docs_dir, self.index_dir, self.embedder = docs_dir, index_dir, embedder
        self.retriever, self.vector_cache = retriever, vector_cache
        self._lock = asyncio.Lock()

    def documents(self) -> list[dict]:
        manifest = json.loads((current_dir(self.index_dir) / "manifest.json").read_text())
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
        with tempfile.TemporaryDirectory() as tmp:
            probe = Path(tmp) / f"{doc_id}{suffix}"
            probe.write_bytes(data)
            try:
                doc = load_file(probe)
            except DocumentError as exc:
                raise DocumentRejected(str(exc)) from exc
        if suffix in (".md", ".markdown") and doc.doc_id != doc_id:
            raise DocumentRejected(f"front matter id {doc.doc_id!r} does not match {doc_id!r}")
        async with self._lock:
            old = self._path_of(doc.doc_id)
            target = old if old is not None and old.suffix.lower() == suffix else self.docs_dir / UPLOAD_DIR / f"{doc_id}{suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            if old is not None and old != target:
                old.unlink(missing_ok=True)
            return doc.doc_id, await self._rebuild()

    async def delete(self, doc_id: str) -> BuildReport | None:
        async with self._lock:
            path = self._path_of(doc_id)
            if path is None:
                return None
            path.unlink(missing_ok=True)
            return await self._rebuild()

    async def rebuild(self) -> BuildReport:
        async with self._lock:
            return await self._rebuild()

    async def _rebuild(self) -> BuildReport:
        report = await asyncio.to_thread(build_index, self.docs_dir, self.index_dir, self.embedder,
                                         progress=False, vector_cache=self.vector_cache)
        await asyncio.to_thread(self.retriever.reload)
        return report
