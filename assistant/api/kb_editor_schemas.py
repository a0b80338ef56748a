"""Request and response models of the knowledge-base editor API (/v1/kb-editor)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.auth.roles import Role
from assistant.kb_editor.faq import FaqFields, lenient_faq_fields
from assistant.kb_editor.service import KbEditor, Published
from assistant.kb_editor.store import Draft, Version, unified_diff
from assistant.kb_editor.trial import TrialAnswer
from assistant.kb_editor.validate import FAQ, REGULATION, Malformed, check
from assistant.storage.agents import AgentView

DocId = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,80}$", description="lowercase letters, digits and dashes")
Content = Field(default=None, max_length=200_000, description="Markdown with YAML front matter")


class FaqIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=300)
    questions: list[str] = Field(default_factory=list, max_length=40)
    answer: str = Field(max_length=20_000)
    answer_doc: str = Field(default="", max_length=90)
    source: str = Field(default="Larkspur Bank customer service", max_length=300)
    effective_date: str = Field(default="", max_length=20)

    def markdown(self, doc_id: str) -> str:
        from assistant.kb_editor.faq import faq_markdown

        return faq_markdown(FaqFields(doc_id=doc_id, title=self.title, questions=tuple(self.questions), answer=self.answer,
                                      answer_doc=self.answer_doc, source=self.source, effective_date=self.effective_date))


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_id: str = DocId
    kind: Literal["faq", "document"] | None = None
    content: str | None = Content
    faq: FaqIn | None = None

    def text(self) -> str | None:
        return self.faq.markdown(self.doc_id) if self.faq is not None else self.content

    def kind_of(self) -> str | None:
        return self.kind or (FAQ if self.faq is not None else None)


class DraftSave(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: int = Field(ge=1)
    content: str | None = Content
    faq: FaqIn | None = None


class RevisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: int = Field(ge=1)


class SendBackIn(RevisionIn):
    note: str = Field(min_length=1, max_length=2000)


class GapRef(BaseModel):
    """The knowledge gap (GET /v1/analytics/gaps) the questions come from, kept with the draft."""

    id: str = Field(max_length=100)
    name: str = Field(default="", max_length=300)
    conversation_ids: list[str] = Field(default_factory=list, max_length=500)


class QuestionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[str] = Field(min_length=1, max_length=100)
    gap: GapRef | None = None


class TryIn(BaseModel):
    question: str = Field(min_length=1, max_length=1000)


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="the version to publish again")
    current_version: int = Field(ge=1, description="the latest version you saw (409 when there is a newer one)")


class MeOut(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    can_edit: bool
    can_publish: bool


def me(staff: AgentView) -> MeOut:
    return MeOut(username=staff.username, display_name=staff.display_name, roles=sorted(r.value for r in staff.roles),
                 can_edit=staff.may(Role.KB_EDITOR, Role.KB_APPROVER), can_publish=staff.may(Role.KB_APPROVER))


class CitationOut(BaseModel):
    doc_id: str
    title: str
    section: str = ""
    snippet: str = ""


class DraftOut(BaseModel):
    id: int
    doc_id: str
    kind: str
    status: str
    revision: int
    content: str
    faq: FaqIn | None
    author_name: str
    base_version: int
    regulation: bool
    notes: dict
    review_note: str | None
    published_version: int | None
    created_at: datetime
    updated_at: datetime
    diff: str = Field(description="unified diff from the published text")
    stale: bool = Field(description="the published text changed since this draft started: publishing would be refused")
    can_publish: bool
    why_not: str = ""


def _faq(content: str) -> FaqIn | None:
    f = lenient_faq_fields(content)
    if f is None:
        return None
    return FaqIn(title=f.title, questions=list(f.questions), answer=f.answer, answer_doc=f.answer_doc, source=f.source,
                 effective_date=f.effective_date)


def draft_out(editor: KbEditor, d: Draft, staff: AgentView) -> DraftOut:
    """Blocking (reads the published text): call it from a plain `def` route or a thread."""
    current: Published | None = editor.published(d.doc_id)
    try:
        category = check(d.content).category
    except Malformed:
        category = ""
    regulation = REGULATION in (category, current.category if current else "")
    why = ""
    if not staff.may(Role.KB_APPROVER):
        why = "publishing needs the kb_approver role"
    elif regulation and staff.id in d.editor_ids:
        why = "a regulation document needs a second person: an approver who did not edit it"
    elif d.status != "submitted":
        why = "submit the draft for review first"
    return DraftOut(id=d.id, doc_id=d.doc_id, kind=d.kind, status=d.status, revision=d.revision, content=d.content,
                    faq=_faq(d.content) if d.kind == FAQ else None, author_name=d.author_name, base_version=d.base_version,
                    regulation=regulation, notes=d.notes, review_note=d.review_note, published_version=d.published_version,
                    created_at=d.created_at, updated_at=d.updated_at,
                    diff=unified_diff(current.content if current else "", d.content, d.doc_id, "published" if current else "new", "draft"),
                    stale=d.status in ("draft", "submitted") and (current.sha256 if current else None) != d.base_sha256,
                    can_publish=not why, why_not=why)


class DraftSummary(BaseModel):
    id: int
    doc_id: str
    kind: str
    status: str
    revision: int
    author_name: str
    updated_at: datetime


def summary(d: Draft) -> DraftSummary:
    return DraftSummary(id=d.id, doc_id=d.doc_id, kind=d.kind, status=d.status, revision=d.revision,
                        author_name=d.author_name, updated_at=d.updated_at)


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    category: str
    editable: bool
    version: int


class VersionOut(BaseModel):
    version: int
    action: str
    title: str
    category: str
    author_name: str
    published_by_name: str
    created_at: datetime
    draft_id: int | None
    rollback_to: int | None
    diff: str | None = None
    content: str | None = None


def version_out(v: Version, *, full: bool = False) -> VersionOut:
    return VersionOut(version=v.version, action=v.action, title=v.title, category=v.category, author_name=v.author_name,
                      published_by_name=v.published_by_name, created_at=v.created_at, draft_id=v.draft_id,
                      rollback_to=v.rollback_to, diff=v.diff if full else None, content=v.content if full else None)


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    category: str
    content: str
    versions: list[VersionOut]


class PublishOut(BaseModel):
    doc_id: str
    version: int
    index_version: str
    draft: DraftOut | None = None


class TryOut(BaseModel):
    answer: str
    path: str
    citations: list[CitationOut]
    cites_draft: bool
    build_s: float


def try_out(t: TrialAnswer) -> TryOut:
    return TryOut(answer=t.text, path=t.path, cites_draft=t.cites_draft, build_s=t.build_s,
                  citations=[CitationOut(doc_id=c.doc_id, title=c.title, section=c.section, snippet=c.snippet) for c in t.citations])
