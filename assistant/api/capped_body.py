"""Request bodies read with a size cap that is enforced while reading, not after.

`await request.body()` holds the whole body in memory before anyone can check its size; a
client that streams 2 GB (chunked, or with no Content-Length) gets it all buffered. Here a
declared Content-Length over the cap is refused before reading, and a streamed body is
refused as soon as the running total passes the cap (HTTP 413 either way).
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.datastructures import FormData

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around one file


async def read_capped(request: Request, limit: int, detail: str) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(status_code=413, detail=detail)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status_code=413, detail=detail)
        chunks.append(chunk)
    return b"".join(chunks)


async def capped_form(request: Request, limit: int, detail: str, *, max_files: int = 1, max_fields: int = 10) -> FormData:
    """A multipart form whose whole body is read with `read_capped` (file size `limit` plus part overhead)."""
    body = await read_capped(request, limit + MULTIPART_OVERHEAD, detail)
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return await Request(request.scope, replay).form(max_files=max_files, max_fields=max_fields)
