"""Build the quality-inspection service from Settings (called once by assistant.services)."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from assistant.config import Settings
from assistant.qa.deciders import Tools
from assistant.qa.scorer import Scorer, load_default
from assistant.qa.service import QaService
from assistant.qa.store import QaRepository


class KbTexts:
    """doc_id -> the document's text, for the figure check; re-read when the folder changes."""

    def __init__(self, docs_dir: Path) -> None:
        self.docs_dir = docs_dir
        self._texts: dict[str, str] = {}
        self._stamp: float | None = None
        self._lock = threading.Lock()

    def _fresh(self) -> dict[str, str]:
        from knowledge_base.documents import load_directory

        files = [p for p in self.docs_dir.rglob("*") if p.is_file()] if self.docs_dir.is_dir() else []
        stamp = max((p.stat().st_mtime for p in files), default=0.0) + len(files)
        with self._lock:
            if stamp != self._stamp:
                self._texts = {d.doc_id: f"{d.title}\n{d.body}" for d in load_directory(self.docs_dir).documents}
                self._stamp = stamp
            return self._texts

    def __call__(self, doc_id: str) -> str | None:
        return (self._texts if self._stamp is not None else self._fresh()).get(doc_id)

    def refresh(self) -> None:
        self._fresh()


def build_qa(settings: Settings, sessions: sessionmaker, encode=None) -> QaService:
    """A malformed scorecard stops start-up with the file and line (ScorecardError)."""
    kb = KbTexts(Path(settings.retrieval.docs_dir))
    tools = Tools(encode=encode, kb_text=kb)
    return QaService(QaRepository(sessions), Scorer(load_default(settings.qa.scorecard), tools), settings.qa,
                     before_batch=kb.refresh)
