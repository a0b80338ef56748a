from fastapi import APIRouter, HTTPException, Path

from assistant.api.deps import ServicesDep
from assistant.api.schemas import ConversationOut, ErrorOut, MessageOut

router = APIRouter(prefix="/v1", tags=["conversations"])


@router.get("/conversations/{conversation_id}", response_model=ConversationOut, responses={404: {"model": ErrorOut}})
async def get_conversation(services: ServicesDep, conversation_id: str = Path(max_length=64)) -> ConversationOut:
    view = services.conversations.get(conversation_id)
    if view is None:
        raise HTTPException(status_code=404, detail="unknown conversation_id")
    return ConversationOut(
        conversation_id=view.id, channel=view.channel, status=view.status, created_at=view.created_at,
        messages=[MessageOut.model_validate(m, from_attributes=True) for m in view.messages],
    )
