from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="200 when models and index are loaded, 503 while loading or failed")
async def healthz(request: Request) -> JSONResponse:
    services, error = request.app.state.services, request.app.state.startup_error
    if services is None:
        status = "failed" if error else "loading"
        return JSONResponse({"status": status, "error": error}, status_code=503)
    return JSONResponse({
        "status": "ready", "index_version": services.retriever.version,
        "generator": services.generator.name, "startup_s": round(services.startup_s, 2),
    })
