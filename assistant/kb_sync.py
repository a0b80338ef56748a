"""Knowledge-base changes made through the admin API reach every API replica.

The database holds each file the admin API wrote or deleted (kb_uploads, by its path under
the knowledge-base folder); a replica copies them into its own folder at start and whenever
another replica announces a change on the bus (`KB_TOPIC`). The replica that made the change
rebuilt the index: a replica that shares the index folder (docker-compose's kb-index volume)
reloads it; one with its own index folder rebuilds. If a bus message is missed (Redis down),
the next start or the next admin change on that replica catches it up.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from assistant.storage.models import KbUpload, utcnow

log = logging.getLogger(__name__)
KB_TOPIC = "kb"


@dataclass(frozen=True, slots=True)
class KbChanged:
    """The bus message: which replica changed the knowledge base, and the index it built."""
    origin: str
    version: str

    def to_message(self) -> dict:
        return {"type": "kb_changed", "origin": self.origin, "version": self.version}

    @classmethod
    def from_message(cls, message: dict) -> KbChanged | None:
        if message.get("type") != "kb_changed":
            return None
        return cls(str(message.get("origin", "")), str(message.get("version", "")))


class KbUploads:
    """The admin API's files in the database, and copying them into a knowledge-base folder."""

    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def record(self, rel_path: str, data: bytes | None) -> None:
        """`data` written at `rel_path` (None: the file there was deleted)."""
        with self._sessions.begin() as s:
            s.merge(KbUpload(rel_path=rel_path, data=data, sha256=hashlib.sha256(data).hexdigest() if data else None,
                             updated_at=utcnow()))

    def sync(self, docs_dir: Path) -> bool:
        """Make `docs_dir` hold what the database says; whether any file changed."""
        root = docs_dir.resolve()
        changed = False
        with self._sessions() as s:
            rows = s.execute(select(KbUpload.rel_path, KbUpload.sha256)).all()
            for rel, digest in rows:
                path = (root / rel).resolve()
                if not path.is_relative_to(root):
                    log.error("kb_uploads: ignoring %r, outside the knowledge-base folder", rel)
                    continue
                if digest is None:
                    if path.exists():
                        path.unlink()
                        changed = True
                    continue
                if path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == digest:
                    continue
                data = s.scalar(select(KbUpload.data).where(KbUpload.rel_path == rel))
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.sync")
                tmp.write_bytes(data)
                tmp.replace(path)
                changed = True
        return changed

    def current(self, rel_path: str) -> tuple[bool, bytes | None]:
        """(whether the database holds this file, its bytes or None where it was deleted): what every
        replica's folder will hold, even before this one has copied it."""
        with self._sessions() as s:
            row = s.execute(select(KbUpload.data, KbUpload.sha256).where(KbUpload.rel_path == rel_path)).first()
        return (False, None) if row is None else (True, row.data if row.sha256 else None)
