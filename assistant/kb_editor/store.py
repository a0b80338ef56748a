"""The editor's drafts and versions in the database: the only code that touches their tables.

Every change to a draft is one `UPDATE ... WHERE id = ? AND revision = ?`: of two people who
saved from the same revision, the second gets DraftConflict and nothing is overwritten. Version
numbers are unique per document, so two replicas publishing the same document at once cannot
both win.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from assistant.kb_editor.models import KbDraft, KbVersion
from assistant.storage.models import utcnow


class EditorError(ValueError):
    status = 400


class NotFound(EditorError):
    status = 404


class Conflict(EditorError):
    status = 409


class Forbidden(EditorError):
    status = 403


@dataclass(frozen=True, slots=True)
class Draft:
    id: int
    doc_id: str
    kind: str
    content: str
    status: str
    revision: int
    base_sha256: str | None
    base_version: int
    author_id: int
    author_name: str
    editor_ids: tuple[int, ...]
    notes: dict
    review_note: str | None
    published_version: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, d: KbDraft) -> Draft:
        return cls(d.id, d.doc_id, d.kind, d.content, d.status, d.revision, d.base_sha256, d.base_version, d.author_id,
                   d.author_name, tuple(d.editor_ids or ()), dict(d.notes or {}), d.review_note, d.published_version,
                   d.created_at, d.updated_at)


@dataclass(frozen=True, slots=True)
class Version:
    doc_id: str
    version: int
    action: str
    content: str
    sha256: str
    diff: str
    title: str
    category: str
    draft_id: int | None
    rollback_to: int | None
    author_name: str
    published_by_name: str
    created_at: datetime

    @classmethod
    def of(cls, v: KbVersion) -> Version:
        return cls(v.doc_id, v.version, v.action, v.content, v.sha256, v.diff, v.title, v.category, v.draft_id,
                   v.rollback_to, v.author_name, v.published_by_name, v.created_at)


@dataclass(frozen=True, slots=True)
class NewVersion:
    action: str
    content: str
    sha256: str
    title: str
    category: str
    author_name: str
    published_by_name: str
    published_by_id: int | None = None
    draft_id: int | None = None
    rollback_to: int | None = None


def unified_diff(old: str, new: str, doc_id: str, a: str, b: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"{doc_id} ({a})", tofile=f"{doc_id} ({b})"))


class EditorStore:
    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def create(self, *, doc_id: str, kind: str, content: str, base_sha256: str | None, base_version: int,
               author_id: int, author_name: str, notes: dict | None = None) -> Draft:
        with self._sessions.begin() as s:
            now = utcnow()
            d = KbDraft(doc_id=doc_id, kind=kind, content=content, status="draft", revision=1, base_sha256=base_sha256,
                        base_version=base_version, author_id=author_id, author_name=author_name, editor_ids=[author_id],
                        notes=notes or {}, created_at=now, updated_at=now)
            s.add(d)
            s.flush()
            return Draft.of(d)

    def get(self, draft_id: int) -> Draft:
        with self._sessions() as s:
            d = s.get(KbDraft, draft_id)
            if d is None:
                raise NotFound(f"no draft {draft_id}")
            return Draft.of(d)

    def drafts(self, *, statuses: tuple[str, ...] = ("draft", "submitted"), limit: int = 200) -> list[Draft]:
        with self._sessions() as s:
            rows = s.scalars(select(KbDraft).where(KbDraft.status.in_(statuses)).order_by(KbDraft.updated_at.desc()).limit(limit))
            return [Draft.of(d) for d in rows]

    def change(self, draft_id: int, revision: int, *, allowed: tuple[str, ...], editor_id: int | None = None,
               **values) -> Draft:
        """Apply `values` if the draft is still at `revision` and in an `allowed` status; the revision goes up by one."""
        with self._sessions.begin() as s:
            d = s.get(KbDraft, draft_id)
            if d is None:
                raise NotFound(f"no draft {draft_id}")
            if d.revision != revision:
                raise Conflict(f"draft {draft_id} was saved by someone else since you opened it (now revision {d.revision}, "
                               f"yours {revision}): reload it; nothing was overwritten")
            if d.status not in allowed:
                raise Conflict(f"draft {draft_id} is {d.status}")
            if editor_id is not None and editor_id not in (d.editor_ids or []):
                values["editor_ids"] = [*(d.editor_ids or []), editor_id]
            done = s.execute(update(KbDraft).where(KbDraft.id == draft_id, KbDraft.revision == revision)
                             .values(revision=revision + 1, updated_at=utcnow(), **values))
            if done.rowcount != 1:  # another process saved between the read and the update
                raise Conflict(f"draft {draft_id} was changed by someone else since you opened it: reload it")
        return self.get(draft_id)

    def versions(self, doc_id: str) -> list[Version]:
        with self._sessions() as s:
            rows = s.scalars(select(KbVersion).where(KbVersion.doc_id == doc_id).order_by(KbVersion.version.desc()))
            return [Version.of(v) for v in rows]

    def version(self, doc_id: str, version: int) -> Version:
        with self._sessions() as s:
            v = s.scalars(select(KbVersion).where(KbVersion.doc_id == doc_id, KbVersion.version == version)).first()
            if v is None:
                raise NotFound(f"{doc_id} has no version {version}")
            return Version.of(v)

    def latest(self, doc_id: str) -> Version | None:
        found = self.versions(doc_id)
        return found[0] if found else None

    def versioned_ids(self) -> dict[str, int]:
        with self._sessions() as s:
            return dict(s.execute(select(KbVersion.doc_id, func.max(KbVersion.version)).group_by(KbVersion.doc_id)).all())

    def publish(self, doc_id: str, new: list[NewVersion], *, after: int, draft: tuple[int, int] | None = None,
                audit=None, audit_payload: dict | None = None) -> int:
        """Record `new` as the versions after `after` (and mark `draft` (id, revision) published),
        in one transaction with its audit record; Conflict if anyone got there first."""
        try:
            with self._sessions.begin() as s:
                previous = s.scalars(select(KbVersion).where(KbVersion.doc_id == doc_id, KbVersion.version == after)).first()
                old, number = (previous.content if previous else ""), after
                for item in new:
                    number += 1
                    diff = unified_diff(old, item.content, doc_id, f"version {number - 1}" if number > 1 else "new", f"version {number}")
                    s.add(KbVersion(doc_id=doc_id, version=number, diff=diff, created_at=utcnow(), **asdict(item)))
                    old = item.content
                s.flush()
                if draft is not None:
                    done = s.execute(update(KbDraft).where(KbDraft.id == draft[0], KbDraft.revision == draft[1],
                                                           KbDraft.status == "submitted")
                                     .values(status="published", published_version=number, revision=draft[1] + 1,
                                             updated_at=utcnow()))
                    if done.rowcount != 1:
                        raise Conflict(f"draft {draft[0]} changed since you opened it: reload it")
                if audit is not None:
                    audit.append_in(s.connection(), "kb_publish", {**(audit_payload or {}), "doc_id": doc_id, "version": number})
                return number
        except IntegrityError as exc:
            raise Conflict(f"{doc_id} was published by someone else at the same time: reload it") from exc

    def unpublish(self, doc_id: str, versions: list[int], draft: tuple[int, int] | None) -> None:
        """Take back versions whose files could not be written (the draft goes back to submitted)."""
        with self._sessions.begin() as s:
            s.execute(delete(KbVersion).where(KbVersion.doc_id == doc_id, KbVersion.version.in_(versions)))
            if draft is not None:
                s.execute(update(KbDraft).where(KbDraft.id == draft[0])
                          .values(status="submitted", published_version=None, revision=draft[1] + 2))
