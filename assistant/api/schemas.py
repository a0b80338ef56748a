"""Request and response models: validation happens here, at the edge."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from assistant.core.events import Reply

MAX_MESSAGE_CHARS = 4000


def _not_blank(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be empty or whitespace")
    return v.strip()


# A message typed by a person (customer or agent): 1-4000 characters, stripped, not blank.
MessageText = Annotated[str, Field(max_length=MAX_MESSAGE_CHARS), AfterValidator(_not_blank)]


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str | None = Field(default=None, max_length=64)
    message: MessageText = Field(description="the customer's message, 1-4000 characters")
    channel: Literal["web", "api", "cli", "voice", "robot"] = "api"


class CitationOut(BaseModel):
    doc_id: str
    title: str
    snippet: str
    section: str = ""


class IntentOut(BaseModel):
    name: str
    confidence: float


class HandoffOut(BaseModel):
    active: bool
    reason: str


class ChatFrame(ChatRequest):
    """A chat message on the customer websocket: continuing a conversation not started on this
    socket needs its session token in the frame (browsers cannot set websocket headers)."""

    session_token: str | None = Field(default=None, max_length=128)


class ChatResponse(BaseModel):
    conversation_id: str
    reply: str
    citations: list[CitationOut]
    intent: IntentOut | None
    handoff: HandoffOut | None
    suggestions: list[str]
    latency_ms: float
    path: str = Field(description="faq | generated | extractive | no_answer | error | small_talk | refused | clarify | "
                      "handoff | human | rephrase | declined")
    offer_agent: bool = Field(default=False, description="the reply offers a person (e.g. a lost card); handoff.active "
                              "says whether a hand-off has started")
    message_id: int | None = None
    session_token: str | None = Field(
        default=None, description="only when this call started the conversation: send it as `Authorization: Bearer` "
        "to continue or read the conversation (the customer role); it is not shown again")

    @classmethod
    def from_reply(cls, r: Reply, session_token: str | None = None) -> ChatResponse:
        return cls(session_token=session_token,
            conversation_id=r.conversation_id, reply=r.text,
            citations=[CitationOut(doc_id=c.doc_id, title=c.title, snippet=c.snippet, section=c.section) for c in r.citations],
            intent=IntentOut(name=r.intent.name, confidence=r.intent.confidence) if r.intent else None,
            handoff=HandoffOut(active=r.handoff.active, reason=r.handoff.reason) if r.handoff else None,
            suggestions=list(r.suggestions), latency_ms=r.latency_ms, path=r.path, message_id=r.message_id,
            offer_agent=r.offer_agent,
        )


class MessageOut(BaseModel):
    id: int
    role: str
    text: str
    channel: str
    created_at: datetime
    path: str | None
    intent: str | None
    citations: list | None
    latency_ms: float | None
    feedback: int | None = None


class FeedbackIn(BaseModel):
    rating: Literal["up", "down"]


class ConversationOut(BaseModel):
    conversation_id: str
    channel: str
    status: str
    created_at: datetime
    messages: list[MessageOut]


class PassageOut(BaseModel):
    doc_id: str
    chunk_id: str
    title: str
    section: str
    category: str
    score: float
    snippet: str


class SearchOut(BaseModel):
    query: str
    results: list[PassageOut]


class ErrorOut(BaseModel):
    detail: str | list


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class AgentOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str


class LoginOut(BaseModel):
    token: str
    agent: AgentOut


class TicketOut(BaseModel):
    id: int
    conversation_id: str
    status: str
    reason: str
    channel: str
    summary: str
    sentiment: str | None
    intents: list
    branch_id: str | None
    created_at: datetime
    wait_s: float
    claimed_by: int | None
    claimed_by_name: str | None
    resolution: str | None


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]


class AgentMessageIn(BaseModel):
    text: MessageText


class CloseIn(BaseModel):
    resolution: Literal["resolved", "handed_back", "no_response", "escalated", "duplicate"] = "resolved"


class HandoffStatusOut(BaseModel):
    conversation_id: str
    status: str
    ticket_id: int | None = None
    reason: str | None = None


# What a customer route answers when the session token is missing (401), wrong (403) or the id unknown (404).
CUSTOMER_ERRORS = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}}
