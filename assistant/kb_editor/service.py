"""The knowledge-base loop: drafts, review, publish, versions and rollback.

kb_editor drafts and submits; kb_approver publishes (routes check the roles). A regulation
document also needs a second person: an approver who wrote no revision of the draft. Publishing
records the version (with its diff) and then writes the file through KnowledgeAdmin, which keeps
it in the database, rebuilds the index, swaps it in and tells the other replicas
(assistant/kb_sync.py). A publish whose draft started from an older text than the one published
now is refused (409): it would overwrite someone's change.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from assistant.kb_admin import UPLOAD_DIR, DocumentRejected, KnowledgeAdmin
from assistant.kb_editor.faq import FaqFields, clean_questions, faq_markdown, suggest_faq
from assistant.kb_editor.store import (
    Conflict,
    Draft,
    EditorError,
    EditorStore,
    Forbidden,
    NewVersion,
    NotFound,
    Version,
)
from assistant.kb_editor.trial import DraftTrial, TrialAnswer
from assistant.kb_editor.validate import FAQ, Malformed, check
from assistant.storage.agents import AgentView

log = logging.getLogger(__name__)
EDITABLE = (".md", ".markdown")
OPEN = ("draft", "submitted")


@dataclass(frozen=True, slots=True)
class Published:
    doc_id: str
    content: str
    sha256: str
    title: str
    category: str
    path: Path | None


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_document(doc_id: str, kind: str) -> str:
    if kind == FAQ:
        return faq_markdown(FaqFields(doc_id=doc_id, title="", questions=(), answer=""))
    return f"---\nid: {doc_id}\ntitle: \ncategory: \nsource: Larkspur Bank\n---\n## Section\nText.\n"


class KbEditor:
    def __init__(self, *, store: EditorStore, admin: KnowledgeAdmin, trial: DraftTrial | None = None, audit=None,
                 min_relevance: float = 0.30, faq_threshold: float = 0.86) -> None:
        self.store, self.admin, self.trial, self.audit = store, admin, trial, audit
        self.min_relevance, self.faq_threshold = min_relevance, faq_threshold

    # -- reading ---------------------------------------------------------------------------------
    def known_ids(self) -> set[str]:
        return {d["doc_id"] for d in self.admin.documents()}

    def _paths(self, doc_id: str) -> list[Path]:
        """Where the document's file is or will be: its indexed path, and the upload folder's."""
        found = [Path(d["path"]) for d in self.admin.documents() if d["doc_id"] == doc_id and d["path"]]
        return [*found, self.admin.docs_dir / UPLOAD_DIR / f"{doc_id}.md"]

    def published(self, doc_id: str) -> Published | None:
        """The document's published Markdown: the database's copy where the admin API or a publish
        wrote one (other replicas' changes included), else the file in the knowledge-base folder."""
        root = self.admin.docs_dir.resolve()
        for path in self._paths(doc_id):
            if path.suffix.lower() not in EDITABLE:
                continue
            data = None
            if self.admin.uploads is not None and path.resolve().is_relative_to(root):
                held, data = self.admin.uploads.current(str(path.resolve().relative_to(root)))
                if held and data is None:
                    continue  # deleted
            if data is None and path.is_file():
                data = path.read_bytes()
            if data is None:
                continue
            text = data.decode("utf-8", errors="replace")
            try:
                doc = check(text)
                title, category = doc.title, doc.category
            except Malformed:
                title, category = doc_id, ""
            return Published(doc_id, text, hashlib.sha256(data).hexdigest(), title, category, path)
        return None

    def documents(self) -> list[dict]:
        versions = self.store.versioned_ids()
        categories = {c.doc_id: c.category for c in self.admin.retriever.current.chunks}
        return [{"doc_id": d["doc_id"], "title": d["title"], "category": categories.get(d["doc_id"], ""),
                 "editable": Path(d["path"]).suffix.lower() in EDITABLE, "version": versions.get(d["doc_id"], 0)}
                for d in self.admin.documents()]

    def document(self, doc_id: str) -> tuple[Published, list[Version]]:
        found = self.published(doc_id)
        if found is None:
            raise NotFound(f"no Markdown document {doc_id}")
        return found, self.store.versions(doc_id)

    # -- drafts ----------------------------------------------------------------------------------
    def create(self, staff: AgentView, *, doc_id: str, kind: str | None, content: str | None, notes: dict | None = None) -> Draft:
        current = self.published(doc_id)
        kind = kind or (FAQ if current is not None and current.category == FAQ else "document")
        text = content if content is not None else (current.content if current else new_document(doc_id, kind))
        if content is not None:  # the published text is taken as it is, even where today's checks would refuse it
            self._same_id(check(text), doc_id)
        latest = self.store.latest(doc_id)
        return self.store.create(doc_id=doc_id, kind=kind, content=text, base_sha256=current.sha256 if current else None,
                                 base_version=latest.version if latest else 0, author_id=staff.id,
                                 author_name=staff.display_name, notes=notes)

    @staticmethod
    def _same_id(doc, doc_id: str) -> None:
        if doc.doc_id != doc_id:
            raise Malformed(doc.lines.get("id", 1), f"id {doc.doc_id!r} must stay {doc_id!r} (start a new draft for a new document)")

    def save(self, staff: AgentView, draft_id: int, revision: int, content: str) -> Draft:
        """A new revision; a submitted draft that changes goes back to `draft` (it is reviewed as changed)."""
        draft = self.store.get(draft_id)
        self._same_id(check(content), draft.doc_id)
        return self.store.change(draft_id, revision, allowed=OPEN, editor_id=staff.id, content=content, status="draft")

    def submit(self, staff: AgentView, draft_id: int, revision: int) -> Draft:
        draft = self.store.get(draft_id)
        check(draft.content, strict=True, known_docs=self.known_ids() | {draft.doc_id})
        return self.store.change(draft_id, revision, allowed=("draft",), status="submitted", review_note=None)

    def send_back(self, staff: AgentView, draft_id: int, revision: int, note: str) -> Draft:
        return self.store.change(draft_id, revision, allowed=("submitted",), status="draft",
                                 review_note=f"{staff.display_name}: {note}"[:2000])

    def discard(self, staff: AgentView, draft_id: int, revision: int) -> Draft:
        return self.store.change(draft_id, revision, allowed=OPEN, status="withdrawn")

    def from_questions(self, staff: AgentView, questions: list[str], gap: dict | None = None) -> Draft:
        """A new FAQ draft from customers' questions: variants, and an answer quoted from retrieved passages."""
        cleaned = clean_questions(questions)
        if not cleaned:
            raise EditorError("give at least one question")
        taken = self.known_ids() | {d.doc_id for d in self.store.drafts()}
        found = suggest_faq(cleaned, self.admin.retriever, taken=taken, min_relevance=self.min_relevance,
                            faq_threshold=self.faq_threshold)
        notes = {"questions": cleaned, "gap": gap, "existing": list(found.existing),
                 "citations": [{"doc_id": c.doc_id, "title": c.title, "section": c.section, "snippet": c.snippet}
                               for c in found.citations]}
        return self.create(staff, doc_id=found.fields.doc_id, kind=FAQ, content=faq_markdown(found.fields), notes=notes)

    async def try_draft(self, draft_id: int, question: str) -> TrialAnswer:
        """The reply to `question` as if the draft were published (a temporary index; the live one is untouched)."""
        if self.trial is None:
            raise EditorError("trying drafts is off on this server")
        draft = await asyncio.to_thread(self.store.get, draft_id)
        check(draft.content)
        replaces = await asyncio.to_thread(self._paths, draft.doc_id)
        try:
            return await self.trial.ask(question, live_version=self.admin.retriever.version, doc_id=draft.doc_id,
                                        content=draft.content, replaces=replaces)
        except (ValueError, OSError) as exc:  # the temporary index could not be built: say why, never a 500
            raise Malformed(1, f"the draft could not be tried: {exc}") from exc

    # -- publishing ------------------------------------------------------------------------------
    async def publish(self, staff: AgentView, draft_id: int, revision: int) -> tuple[Draft, int]:
        draft = await asyncio.to_thread(self.store.get, draft_id)
        if draft.status != "submitted":
            raise Conflict(f"draft {draft_id} is {draft.status}: only a submitted draft is published")
        if draft.revision != revision:
            raise Conflict(f"draft {draft_id} changed since you opened it (now revision {draft.revision}): reload it")
        current = await asyncio.to_thread(self.published, draft.doc_id)
        doc = check(draft.content, strict=True, known_docs=await asyncio.to_thread(self.known_ids) | {draft.doc_id})
        if (doc.is_regulation or (current is not None and current.category == "regulation")) and staff.id in draft.editor_ids:
            raise Forbidden("a regulation document needs a second person: an approver who wrote no revision of this draft publishes it")
        if (current.sha256 if current else None) != draft.base_sha256:
            raise Conflict(f"{draft.doc_id} was published by someone else after this draft was started: open the "
                           "published text, start a new draft from it and carry your change over; nothing was overwritten")
        new = NewVersion("publish", draft.content, sha(draft.content), doc.title, doc.category, draft.author_name,
                         staff.display_name, staff.id, draft_id=draft.id)
        number = await self._record_and_write(staff, draft.doc_id, current, new, draft=(draft.id, revision))
        return await asyncio.to_thread(self.store.get, draft_id), number

    async def rollback(self, staff: AgentView, doc_id: str, to_version: int, current_version: int) -> int:
        """Publish version `to_version` again, as a new version; refused when it fails today's checks."""
        target = await asyncio.to_thread(self.store.version, doc_id, to_version)
        latest = await asyncio.to_thread(self.store.latest, doc_id)
        current = await asyncio.to_thread(self.published, doc_id)
        if latest is None or latest.version != current_version or current is None or current.sha256 != latest.sha256:
            raise Conflict(f"{doc_id} changed since you opened it: reload its versions; nothing was rolled back")
        if target.sha256 == latest.sha256:
            raise Conflict(f"version {to_version} is the published text already")
        try:
            doc = check(target.content, strict=True, known_docs=await asyncio.to_thread(self.known_ids) | {doc_id})
        except Malformed as exc:
            raise Malformed(exc.line, f"version {to_version} cannot be restored: {exc.message}") from None
        new = NewVersion("rollback", target.content, target.sha256, doc.title, doc.category, target.author_name,
                         staff.display_name, staff.id, draft_id=target.draft_id, rollback_to=to_version)
        return await self._record_and_write(staff, doc_id, current, new)

    async def _record_and_write(self, staff: AgentView, doc_id: str, current: Published | None, new: NewVersion,
                                *, draft: tuple[int, int] | None = None) -> int:
        """Record the version (after an `import` of the published text where the history lacks it),
        then write the file and rebuild; the record is taken back if the write fails."""
        latest = await asyncio.to_thread(self.store.latest, doc_id)
        items = []
        if current is not None and (latest is None or latest.sha256 != current.sha256):
            items.append(NewVersion("import", current.content, current.sha256, current.title, current.category,
                                    "knowledge-base folder", "knowledge-base folder"))
        items.append(new)
        after = latest.version if latest else 0
        payload = {"action": new.action, "by": staff.username, "draft_id": new.draft_id, "sha256": new.sha256}
        number = await asyncio.to_thread(self.store.publish, doc_id, items, after=after, draft=draft, audit=self.audit,
                                         audit_payload=payload)
        try:
            await self.admin.put(doc_id, f"{doc_id}.md", new.content.encode("utf-8"))
        except (DocumentRejected, OSError) as exc:
            await asyncio.to_thread(self.store.unpublish, doc_id, list(range(after + 1, number + 1)), draft)
            raise Malformed(1, f"the knowledge base did not take it: {exc}") from exc
        log.info("knowledge base: %s version %d published by staff %d (%s)", doc_id, number, staff.id, new.action)
        return number
