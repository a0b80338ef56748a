"""POST /v1/intent: what the NLU makes of one message (intent, scope, handoff signal)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from assistant.api.deps import ServicesDep
from assistant.api.schemas import MessageText
from assistant.privacy import redact

router = APIRouter(prefix="/v1", tags=["nlu"])


class IntentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: MessageText = Field(description="the customer's message, 1-4000 characters")
    failed_turns: int = Field(default=0, ge=0, le=100, description="recent turns that did not help (raises frustration)")


class IntentScore(BaseModel):
    intent: str
    confidence: float


class IntentResponse(BaseModel):
    intent: str
    confidence: float = Field(description="calibrated probability of the intent")
    top: list[IntentScore] = Field(description="the five most likely intents")
    in_scope: bool
    human_request: bool
    handoff_recommended: bool = Field(description="hand over now: a request for a person (direct, indirect or inside "
                                      "a question) or a strong trigger of the handoff policy; never low confidence alone")
    offer_agent: bool = Field(description="answer as usual and offer a person: a confident urgent intent (lost card, fraud)")
    route: str = Field(description="rephrase | advice | not_offered | clarify (ask which of `top` is meant) | empty")
    nearest_product: str = Field(description="for not_offered: the closest real product's title, else empty")
    reason: str = Field(description="why a handoff is recommended or the turn is special; empty if ordinary")
    sentiment: str = Field(description="negative | neutral | positive")
    frustration: float = Field(description="0..1")


@router.post("/intent", response_model=IntentResponse)
async def classify_intent(body: IntentRequest, services: ServicesDep) -> IntentResponse:
    if services.nlu is None:
        raise HTTPException(status_code=503, detail="intent classifier not loaded")
    # Same input the dialogue core classifies: card numbers and the like never reach a model.
    text = redact(body.text).text
    r = await asyncio.to_thread(services.nlu.classify, text, failed_turns=body.failed_turns)
    return IntentResponse(
        intent=r.intent, confidence=r.confidence, top=[IntentScore(intent=n, confidence=c) for n, c in r.top],
        in_scope=r.in_scope, human_request=r.human_request, handoff_recommended=r.handoff_recommended,
        offer_agent=getattr(r, "offer_agent", False), route=getattr(r, "route", ""),
        nearest_product=getattr(r, "nearest_product", ""), reason=r.reason, sentiment=r.sentiment, frustration=r.frustration,
    )
