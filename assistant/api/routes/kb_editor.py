"""Knowledge-base editor (/console/kb): drafts, review, publish, versions, rollback, "try it".

kb_editor and kb_approver read and draft; kb_approver publishes, sends back and rolls back (admin
holds both). The admin REST API (/v1/admin/kb, BANK_SECURITY__ADMIN_TOKEN) stays for automation.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse

from assistant.api import kb_editor_schemas as S
from assistant.api.deps import RowId, ServicesDep, StaffDep, require_roles
from assistant.api.schemas import ErrorOut, Responses
from assistant.auth.roles import Role
from assistant.kb_editor import KbEditor
from assistant.kb_editor.store import EditorError
from assistant.kb_editor.validate import Malformed
from assistant.storage.agents import AgentView

router = APIRouter(prefix="/v1/kb-editor", tags=["knowledge-base editor"])
Editor = Annotated[AgentView, Depends(require_roles(Role.KB_EDITOR, Role.KB_APPROVER))]
Approver = Annotated[AgentView, Depends(require_roles(Role.KB_APPROVER))]
DocId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,80}$")]
ERRORS: Responses = {code: {"model": ErrorOut} for code in (401, 403, 404, 409, 422)}


def kb_editor(services: ServicesDep) -> KbEditor:
    if services.kb_editor is None:
        raise EditorError("the knowledge-base editor is off on this server")
    return services.kb_editor


EditorDep = Annotated[KbEditor, Depends(kb_editor)]


def install_errors(app: FastAPI) -> None:
    """A refused edit is a 4xx with a message; a malformed document also says its line."""

    @app.exception_handler(Malformed)
    async def _malformed(_: Request, exc: Malformed) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "line": exc.line}, status_code=422)

    @app.exception_handler(EditorError)
    async def _refused(_: Request, exc: EditorError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)


@router.get("/me", response_model=S.MeOut, responses=ERRORS)
def whoami(staff: StaffDep) -> S.MeOut:
    return S.me(staff)


@router.get("/documents", response_model=list[S.DocumentSummary], responses=ERRORS)
def documents(editor: EditorDep, _: Editor) -> list[S.DocumentSummary]:
    return [S.DocumentSummary(**d) for d in editor.documents()]


@router.get("/documents/{doc_id}", response_model=S.DocumentOut, responses=ERRORS)
def document(doc_id: DocId, editor: EditorDep, _: Editor) -> S.DocumentOut:
    current, versions = editor.document(doc_id)
    return S.DocumentOut(doc_id=doc_id, title=current.title, category=current.category, content=current.content,
                         versions=[S.version_out(v) for v in versions])


@router.get("/documents/{doc_id}/versions/{version}", response_model=S.VersionOut, responses=ERRORS)
def version(doc_id: DocId, version: RowId, editor: EditorDep, _: Editor) -> S.VersionOut:
    return S.version_out(editor.store.version(doc_id, version), full=True)


@router.post("/documents/{doc_id}/rollback", response_model=S.PublishOut, responses=ERRORS)
async def rollback(doc_id: DocId, body: S.RollbackIn, editor: EditorDep, staff: Approver) -> S.PublishOut:
    """Publish an earlier version again (as a new version); 422 naming the line when it fails today's checks."""
    number = await editor.rollback(staff, doc_id, body.version, body.current_version)
    return S.PublishOut(doc_id=doc_id, version=number, index_version=editor.admin.retriever.version)


@router.get("/drafts", response_model=list[S.DraftSummary], responses=ERRORS)
def drafts(editor: EditorDep, _: Editor) -> list[S.DraftSummary]:
    return [S.summary(d) for d in editor.store.drafts()]


@router.post("/drafts", response_model=S.DraftOut, status_code=201, responses=ERRORS)
def create_draft(body: S.DraftIn, editor: EditorDep, staff: Editor) -> S.DraftOut:
    """A draft of a new document, or of a published one (its text when `content` and `faq` are left out)."""
    draft = editor.create(staff, doc_id=body.doc_id, kind=body.kind_of(), content=body.text())
    return S.draft_out(editor, draft, staff)


@router.post("/drafts/from-questions", response_model=S.DraftOut, status_code=201, responses=ERRORS)
def draft_from_questions(body: S.QuestionsIn, editor: EditorDep, staff: Editor) -> S.DraftOut:
    """An FAQ draft pre-filled from customers' questions (e.g. a knowledge gap's examples); nothing is published."""
    draft = editor.from_questions(staff, body.questions, body.gap.model_dump() if body.gap else None)
    return S.draft_out(editor, draft, staff)


@router.get("/drafts/{draft_id}", response_model=S.DraftOut, responses=ERRORS)
def draft(draft_id: RowId, editor: EditorDep, staff: Editor) -> S.DraftOut:
    return S.draft_out(editor, editor.store.get(draft_id), staff)


@router.put("/drafts/{draft_id}", response_model=S.DraftOut, responses=ERRORS)
def save_draft(draft_id: RowId, body: S.DraftSave, editor: EditorDep, staff: Editor) -> S.DraftOut:
    """Save a revision: 409 when someone saved since `revision`, 422 naming the line of a malformed document."""
    doc_id = editor.store.get(draft_id).doc_id
    text = body.faq.markdown(doc_id) if body.faq is not None else body.content
    if text is None:
        raise EditorError("send content or faq")
    return S.draft_out(editor, editor.save(staff, draft_id, body.revision, text), staff)


@router.post("/drafts/{draft_id}/submit", response_model=S.DraftOut, responses=ERRORS)
def submit(draft_id: RowId, body: S.RevisionIn, editor: EditorDep, staff: Editor) -> S.DraftOut:
    return S.draft_out(editor, editor.submit(staff, draft_id, body.revision), staff)


@router.post("/drafts/{draft_id}/discard", response_model=S.DraftOut, responses=ERRORS)
def discard(draft_id: RowId, body: S.RevisionIn, editor: EditorDep, staff: Editor) -> S.DraftOut:
    return S.draft_out(editor, editor.discard(staff, draft_id, body.revision), staff)


@router.post("/drafts/{draft_id}/send-back", response_model=S.DraftOut, responses=ERRORS)
def send_back(draft_id: RowId, body: S.SendBackIn, editor: EditorDep, staff: Approver) -> S.DraftOut:
    return S.draft_out(editor, editor.send_back(staff, draft_id, body.revision, body.note), staff)


@router.post("/drafts/{draft_id}/publish", response_model=S.PublishOut, responses=ERRORS)
async def publish(draft_id: RowId, body: S.RevisionIn, editor: EditorDep, staff: Approver) -> S.PublishOut:
    """Publish a submitted draft: every replica's index is rebuilt and swapped in (no downtime)."""
    draft, number = await editor.publish(staff, draft_id, body.revision)
    out = await asyncio.to_thread(S.draft_out, editor, draft, staff)
    return S.PublishOut(doc_id=draft.doc_id, version=number, index_version=editor.admin.retriever.version, draft=out)


@router.post("/drafts/{draft_id}/try", response_model=S.TryOut, responses=ERRORS)
async def try_draft(draft_id: RowId, body: S.TryIn, editor: EditorDep, _: Editor) -> S.TryOut:
    """The answer and citations the assistant would give with this draft published (the live index is untouched)."""
    return S.try_out(await editor.try_draft(draft_id, body.question))
