from fastapi import APIRouter, Query

from assistant.api.deps import ServicesDep
from assistant.api.schemas import PassageOut, SearchOut
from assistant.privacy import redact

router = APIRouter(prefix="/v1/kb", tags=["knowledge base"])


@router.get("/search", response_model=SearchOut)
def search(  # plain def: the encoder and FAISS run in the thread pool, off the event loop
    services: ServicesDep,
    q: str = Query(min_length=1, max_length=500, description="search text"),
    k: int = Query(default=5, ge=1, le=20),
    category: str | None = Query(default=None, max_length=40),
) -> SearchOut:
    q = redact(q).text  # a card number typed into the search box reaches neither the encoder nor a log
    hits = services.retriever.search(q, k=k, category=category)
    return SearchOut(query=q, results=[
        PassageOut(doc_id=p.doc_id, chunk_id=p.chunk_id, title=p.title, section=p.section,
                   category=p.category, score=round(p.score, 4), snippet=p.text[:300])
        for p in hits
    ])
