"""Recommended questions the chat widget opens with: titles of the knowledge base's FAQ entries."""

from fastapi import APIRouter, Query

from assistant.api.deps import ServicesDep

router = APIRouter(prefix="/v1", tags=["chat"])


@router.get("/suggestions", response_model=list[str], summary="Recommended questions (FAQ titles) for a new chat")
async def suggestions(services: ServicesDep, n: int = Query(default=4, ge=1, le=20)) -> list[str]:
    return [e.title for e in services.retriever.faq_entries[:n]]
