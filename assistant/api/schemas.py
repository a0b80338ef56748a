"""Request and response models: validation happens here, at the edge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, ValidationError

from assistant.analytics.csat import asks_survey
from assistant.core.events import Reply
from assistant.storage.agents import AgentView

MAX_MESSAGE_CHARS = 4000


def _not_blank(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be empty or whitespace")
    return v.strip()


def _utc(v: datetime) -> datetime:
    return v if v.tzinfo else v.replace(tzinfo=UTC)


# A moment in UTC with its offset (RFC 3339, as OpenAPI's date-time says): the database hands back
# naive UTC times (SQLite keeps no offset), e.g. 2026-03-10T15:00:00 is sent as 2026-03-10T15:00:00Z.
Timestamp = Annotated[datetime, AfterValidator(_utc)]


# A message typed by a person (customer or agent): 1-4000 characters, stripped, not blank.
MessageText = Annotated[str, Field(max_length=MAX_MESSAGE_CHARS), AfterValidator(_not_blank)]


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str | None = Field(default=None, max_length=64)
    message: MessageText = Field(description="the customer's message, 1-4000 characters")
    channel: Literal["web", "api", "cli", "voice", "robot"] = "api"
    identity: str | None = Field(
        default=None, max_length=4096,
        description="a signed identity assertion from the bank's online-banking session (a JWT whose nonce is this "
        "conversation's id); verified before the turn, 401 when it does not hold")


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["web", "api", "robot"] = "web"


class SessionOut(BaseModel):
    conversation_id: str
    session_token: str = Field(description="send as `Authorization: Bearer` to continue; not shown again")


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


class RouteOut(BaseModel):
    kind: str = Field(description="what the dialogue manager chose: knowledge, flow_start, slot_fill, confirm, ...")
    reason: str


class FlowOut(BaseModel):
    name: str
    awaiting: str | None = Field(description="slot | confirm | code | identity")
    slot: str | None = None


class CustomerOut(BaseModel):
    verified: bool
    customer_id: str | None = None


class ChatFrame(ChatRequest):
    """A chat message on the customer websocket: continuing a conversation not started on this
    socket needs its session token in the frame (browsers cannot set websocket headers)."""

    type: Literal["message"] = "message"
    session_token: str | None = Field(default=None, max_length=128)


class ResumeFrame(BaseModel):
    """Follow a conversation again on a new socket (e.g. after a page reload)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["resume"]
    conversation_id: str = Field(min_length=1, max_length=64)
    session_token: str = Field(default="", max_length=128)


def _frame_kind(frame: object) -> str | None:
    """The frame's `type`; a frame without one is a chat message."""
    kind = frame.get("type", "message") if isinstance(frame, dict) else getattr(frame, "type", None)
    return kind if isinstance(kind, str) else None


# Any text frame of WS /v1/chat/ws, chosen by its parsed `type` (never by looking at the raw text).
CustomerFrame = TypeAdapter(Annotated[
    Annotated[ChatFrame, Tag("message")] | Annotated[ResumeFrame, Tag("resume")], Discriminator(_frame_kind)])


class AgentFrame(BaseModel):
    """A message from the agent console's websocket to the customer of a ticket the agent holds."""

    ticket_id: int = Field(ge=1, le=2**31 - 1)  # a database id (RowId); larger is a 422, not a driver error
    text: str


def validation_detail(exc: ValidationError) -> list[dict]:
    """What was wrong with a websocket frame, as JSON: type, place and message of each error, never the
    input (it may hold a card number) nor the context (it may hold an exception object)."""
    return [dict(e) for e in exc.errors(include_url=False, include_input=False, include_context=False)]


class ChatResponse(BaseModel):
    conversation_id: str
    reply: str
    citations: list[CitationOut]
    intent: IntentOut | None
    handoff: HandoffOut | None
    suggestions: list[str]
    latency_ms: float
    path: str = Field(description="faq | generated | extractive | no_answer | error | small_talk | refused | clarify | "
                      "handoff | human | rephrase | declined | flow")
    offer_agent: bool = Field(default=False, description="the reply offers a person (e.g. a lost card); handoff.active "
                              "says whether a hand-off has started")
    message_id: int | None = None
    route: RouteOut | None = None
    flow: FlowOut | None = Field(default=None, description="the self-service flow in progress and what it waits for")
    customer: CustomerOut = CustomerOut(verified=False)
    survey: bool = Field(default=False, description="the customer said goodbye: ask for their satisfaction "
                         "(POST /v1/conversations/{id}/csat, 1-5 and an optional comment)")
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
            route=RouteOut(kind=r.route.kind, reason=r.route.reason) if r.route else None,
            flow=FlowOut(name=r.flow.name, awaiting=r.flow.awaiting, slot=r.flow.slot) if r.flow else None,
            customer=CustomerOut(verified=r.customer_id is not None, customer_id=r.customer_id),
            offer_agent=r.offer_agent, survey=asks_survey(r),
        )


class MessageOut(BaseModel):
    id: int
    role: str
    text: str
    channel: str
    created_at: Timestamp
    path: str | None
    intent: str | None
    citations: list | None
    latency_ms: float | None
    feedback: int | None = None


class FeedbackIn(BaseModel):
    rating: Literal["up", "down"]


class CsatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5, description="1 (very dissatisfied) to 5 (very satisfied)")
    comment: str | None = Field(default=None, max_length=1000, description="optional; stored redacted")


class CsatOut(BaseModel):
    conversation_id: str
    score: int


class ConversationOut(BaseModel):
    conversation_id: str
    channel: str
    status: str
    created_at: Timestamp
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
    """A staff account; ``role`` is ``roles`` comma-joined (kept for older consoles)."""

    id: int
    username: str
    display_name: str
    role: str
    roles: list[str]

    @classmethod
    def of(cls, staff: AgentView) -> AgentOut:
        return cls(id=staff.id, username=staff.username, display_name=staff.display_name, role=staff.role,
                   roles=sorted(r.value for r in staff.roles))


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
    created_at: Timestamp
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
# FastAPI's `responses=` argument: status -> {"model": ErrorOut}.
Responses = dict[int | str, dict[str, Any]]
CUSTOMER_ERRORS: Responses = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}}
