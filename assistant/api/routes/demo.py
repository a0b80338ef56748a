"""The demo page plays the bank's logged-in site: it asks the sandbox bank to sign an identity
assertion for this conversation. Off in production, where the bank's own pages do this."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from assistant.api.deps import SettingsDep

router = APIRouter(prefix="/v1/demo", tags=["demo"])


class DemoSignIn(BaseModel):
    customer_id: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")
    conversation_id: str = Field(min_length=1, max_length=64)


@router.post("/sign-in", responses={404: {"description": "off in production"}, 502: {"description": "bank down"}})
async def demo_sign_in(body: DemoSignIn, settings: SettingsDep) -> dict:
    """{assertion}: what the bank's page would hand the widget for `customer_id` (dev and demo only)."""
    if settings.environment == "production" or not settings.selfservice.enabled:
        raise HTTPException(status_code=404, detail="not available")
    headers = {"authorization": f"Bearer {settings.banking.api_token}"} if settings.banking.api_token else {}
    try:
        async with httpx.AsyncClient(base_url=settings.banking.url, timeout=5, headers=headers) as bank:
            r = await bank.post("/sandbox/assertions", json=body.model_dump())
    except httpx.HTTPError as exc:
        raise HTTPException(status_code=502, detail="the sandbox bank is not answering") from exc
    if r.status_code != 200:
        raise HTTPException(status_code=404 if r.status_code == 404 else 502, detail="no such demo customer")
    return {"assertion": r.json()["assertion"]}
