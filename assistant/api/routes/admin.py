"""Knowledge-base administration (admin token): add, replace, delete documents; rebuild."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Request

from assistant.api.deps import ServicesDep, SettingsDep
from assistant.api.schemas import ErrorOut, Responses
from assistant.kb_admin import DocumentRejected

router = APIRouter(prefix="/v1/admin/kb", tags=["knowledge-base admin"])
SUFFIX = {"text/markdown": ".md", "text/html": ".html", "application/pdf": ".pdf", "text/plain": ".txt"}
MAX_BYTES = 5 * 1024 * 1024
ERRORS: Responses = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}, 413: {"model": ErrorOut}, 415: {"model": ErrorOut},
          422: {"model": ErrorOut}, 503: {"model": ErrorOut}}


def require_admin(settings: SettingsDep, authorization: str = Header(default="")) -> None:
    expected = settings.security.admin_token
    if not expected:
        raise HTTPException(status_code=403, detail="admin API disabled: set BANK_SECURITY__ADMIN_TOKEN")
    given = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
    if not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(status_code=401, detail="admin token required", headers={"WWW-Authenticate": "Bearer"})


AdminDep = Annotated[None, Depends(require_admin)]
DocId = Annotated[str, Path(max_length=90)]


@router.get("/documents", responses=ERRORS)
def documents(services: ServicesDep, _: AdminDep) -> list[dict]:
    return services.kb_admin.documents()


@router.put("/documents/{doc_id}", responses=ERRORS, summary="Add or replace a document (raw body: Markdown, HTML, PDF, text)")
async def put_document(doc_id: DocId, request: Request, services: ServicesDep, _: AdminDep) -> dict:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in SUFFIX:
        raise HTTPException(status_code=415, detail=f"content-type must be one of {sorted(SUFFIX)}")
    data = await request.body()
    if len(data) > MAX_BYTES:
        raise HTTPException(status_code=413, detail="document larger than 5 MB")
    try:
        indexed_id, report = await services.kb_admin.put(doc_id, f"{doc_id}{SUFFIX[kind]}", data)
    except DocumentRejected as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    return {"doc_id": indexed_id, "index_version": services.retriever.version, "report": asdict(report)}


@router.delete("/documents/{doc_id}", responses=ERRORS)
async def delete_document(doc_id: DocId, services: ServicesDep, _: AdminDep) -> dict:
    report = await services.kb_admin.delete(doc_id)
    if report is None:
        raise HTTPException(status_code=404, detail=f"no document {doc_id}")
    return {"deleted": doc_id, "index_version": services.retriever.version, "report": asdict(report)}


@router.post("/rebuild", responses=ERRORS)
async def rebuild(services: ServicesDep, _: AdminDep) -> dict:
    report = await services.kb_admin.rebuild()
    return {"index_version": services.retriever.version, "report": asdict(report)}
