"""Customer routes on a conversation. Plain `def` routes run in FastAPI's thread pool: a
database wait (a lock held elsewhere) never stalls the event loop."""

from fastapi import APIRouter, HTTPException

from assistant.analytics.csat import AlreadyRated
from assistant.api.deps import CustomerConversation, RowId, ServicesDep
from assistant.api.schemas import (
    CUSTOMER_ERRORS,
    ConversationOut,
    CsatIn,
    CsatOut,
    ErrorOut,
    FeedbackIn,
    HandoffStatusOut,
    MessageOut,
)

router = APIRouter(prefix="/v1", tags=["conversations"])


@router.get("/conversations/{conversation_id}", response_model=ConversationOut, responses=CUSTOMER_ERRORS)
def get_conversation(services: ServicesDep, conversation_id: CustomerConversation) -> ConversationOut:
    view = services.conversations.get(conversation_id)
    if view is None:
        raise HTTPException(status_code=404, detail="unknown conversation_id")
    return ConversationOut(
        conversation_id=view.id, channel=view.channel, status=view.status, created_at=view.created_at,
        messages=[MessageOut.model_validate(m, from_attributes=True) for m in view.messages],
    )


@router.post("/conversations/{conversation_id}/handoff", response_model=HandoffStatusOut,
             responses={**CUSTOMER_ERRORS, 429: {"model": ErrorOut}})
async def request_agent(services: ServicesDep, conversation_id: CustomerConversation) -> HandoffStatusOut:
    """The customer asks for a person (the widget's button); same ticket as a typed request."""
    view = await services.conversations.read(services.conversations.get, conversation_id)
    if view is None:  # deleted since the session check
        raise HTTPException(status_code=404, detail="unknown conversation_id")
    started = await services.handoff.request(conversation_id, reason="explicit request for a human", channel=view.channel)
    return HandoffStatusOut(conversation_id=conversation_id, status="waiting", ticket_id=started.ticket_id, reason=started.reason)


@router.delete("/conversations/{conversation_id}/handoff", response_model=HandoffStatusOut, responses=CUSTOMER_ERRORS)
async def cancel_agent(services: ServicesDep, conversation_id: CustomerConversation) -> HandoffStatusOut:
    """The customer stops waiting for an agent; the assistant answers again."""
    ticket = await services.handoff.cancel(conversation_id)
    status = await services.conversations.read(services.conversations.status, conversation_id)
    if status is None:  # deleted since the session check
        raise HTTPException(status_code=404, detail="unknown conversation_id")
    return HandoffStatusOut(conversation_id=conversation_id, status=status,
                            ticket_id=ticket.id if ticket else None)


@router.post("/conversations/{conversation_id}/messages/{message_id}/feedback", status_code=204,
             responses=CUSTOMER_ERRORS)
def feedback(body: FeedbackIn, services: ServicesDep, message_id: RowId, conversation_id: CustomerConversation) -> None:
    """Thumbs up/down on an assistant reply, stored with the message."""
    if not services.conversations.set_feedback(conversation_id, message_id, 1 if body.rating == "up" else -1):
        raise HTTPException(status_code=404, detail="no assistant message with that id in this conversation")


@router.post("/conversations/{conversation_id}/csat", response_model=CsatOut, status_code=201,
             responses={**CUSTOMER_ERRORS, 409: {"model": ErrorOut}, 503: {"model": ErrorOut}})
def csat(body: CsatIn, services: ServicesDep, conversation_id: CustomerConversation) -> CsatOut:
    """The end-of-conversation survey: a score 1-5 and an optional comment (stored redacted), once per conversation."""
    if services.csat is None:
        raise HTTPException(status_code=503, detail="satisfaction answers are not stored on this server")
    try:
        answer = services.csat.record(conversation_id, body.score, body.comment)
    except AlreadyRated:
        raise HTTPException(status_code=409, detail="this conversation has been rated already") from None
    return CsatOut(conversation_id=answer.conversation_id, score=answer.score)
