"""OpenAPI links: how a response feeds the next call (a conversation's id and session token, a
ticket's id, an agent's login token, an uploaded document's id).

They document the API's flows in /openapi.json, and a stateful fuzzer (schemathesis) follows them
to reach real resources instead of 404s. One table; `install` adds it to FastAPI's generated schema.
Example: `POST /v1/conversations` 201 -> `GET /v1/conversations/{conversation_id}` with
`Authorization: Bearer {$response.body#/session_token}`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

CONV = "/v1/conversations/{conversation_id}"
TICKET = "/v1/agent/tickets/{ticket_id}"
DOC = "/v1/admin/kb/documents/{doc_id}"


def _customer(cid: str, token: str | None = "$response.body#/session_token") -> dict[str, str]:
    params = {"path.conversation_id": cid}
    if token is not None:
        params["header.Authorization"] = "Bearer {" + token + "}"
    return params


_NEW = _customer("$response.body#/conversation_id")
_SAME = _customer("$request.path.conversation_id", None)  # the caller's own token travels with its next call


def _ticket(pointer: str) -> dict[str, str]:
    return {"path.ticket_id": pointer}


def _on_ticket(pointer: str) -> list[tuple[str, str, str, dict]]:
    """The agent's next steps on a ticket whose id is at `pointer`."""
    return [(name, method, path, {"parameters": _ticket(pointer)}) for name, method, path in (
        ("ReadTicket", "get", TICKET), ("ClaimTicket", "post", TICKET + "/claim"),
        ("SendAgentMessage", "post", TICKET + "/messages"), ("CloseTicket", "post", TICKET + "/close"),
        ("HandBack", "post", TICKET + "/handback"))]


# (method, path, status) of the source -> [(link name, target method, target path, link body)]
LINKS: dict[tuple[str, str, str], list[tuple[str, str, str, dict[str, Any]]]] = {
    ("post", "/v1/conversations", "201"): [
        ("ReadConversation", "get", CONV, {"parameters": _NEW}),
        ("RequestAgent", "post", CONV + "/handoff", {"parameters": _NEW}),
        ("CancelAgent", "delete", CONV + "/handoff", {"parameters": _NEW}),
        ("SendMessage", "post", "/v1/chat", {
            "parameters": {"header.Authorization": "Bearer {$response.body#/session_token}"},
            "requestBody": {"conversation_id": "$response.body#/conversation_id"}}),
        ("DemoSignIn", "post", "/v1/demo/sign-in", {"requestBody": {"conversation_id": "$response.body#/conversation_id"}}),
    ],
    ("post", "/v1/chat", "200"): [
        ("ReadConversation", "get", CONV, {"parameters": _customer("$response.body#/conversation_id")}),
        ("RateReply", "post", CONV + "/messages/{message_id}/feedback", {"parameters": {
            **_customer("$response.body#/conversation_id"), "path.message_id": "$response.body#/message_id"}}),
        ("RequestAgent", "post", CONV + "/handoff", {"parameters": _customer("$response.body#/conversation_id")}),
        ("SendMessage", "post", "/v1/chat", {"requestBody": {"conversation_id": "$response.body#/conversation_id"}}),
        ("SpeakReply", "post", "/v1/tts", {"requestBody": {"text": "$response.body#/reply"}}),
    ],
    ("post", CONV + "/handoff", "200"): [
        ("CancelAgent", "delete", CONV + "/handoff", {"parameters": _SAME}),
        ("ReadConversation", "get", CONV, {"parameters": _SAME}),
        *_on_ticket("$response.body#/ticket_id"),
    ],
    ("get", "/v1/agent/tickets", "200"): _on_ticket("$response.body#/0/id"),
    ("post", TICKET + "/claim", "200"): _on_ticket("$response.body#/id"),
    ("get", TICKET, "200"): _on_ticket("$response.body#/id"),
    ("post", "/v1/agent/login", "200"): [
        (name, method, path, {"parameters": {"header.Authorization": "Bearer {$response.body#/token}"}})
        for name, method, path in (("Queue", "get", "/v1/agent/tickets"), ("CannedReplies", "get", "/v1/agent/canned"),
                                   ("Logout", "post", "/v1/agent/logout"))
    ],
    ("put", DOC, "200"): [
        ("DeleteDocument", "delete", DOC, {"parameters": {"path.doc_id": "$request.path.doc_id"}}),
        ("ListDocuments", "get", "/v1/admin/kb/documents", {}),
    ],
    ("get", "/healthz", "200"): [("Suggestions", "get", "/v1/suggestions", {})],
    ("get", "/v1/suggestions", "200"): [  # the widget's suggestion chips
        ("AskSuggestion", "post", "/v1/chat", {"requestBody": {"message": "$response.body#/0"}}),
        ("ClassifySuggestion", "post", "/v1/intent", {"requestBody": {"text": "$response.body#/0"}}),
        ("SearchSuggestion", "get", "/v1/kb/search", {"parameters": {"query.q": "$response.body#/0"}}),
    ],
    ("post", "/v1/tts", "200"): [("Transcribe", "post", "/v1/asr", {})],
    ("post", "/v1/voice/twiml", "200"): [("StreamEnded", "post", "/v1/voice/twiml/next", {})],
    ("post", "/v1/voice/twiml/next", "200"): [("HoldMessage", "get", "/v1/voice/hold", {})],
    ("get", "/v1/voice/hold", "200"): [("HoldAudio", "get", "/v1/voice/hold.wav", {})],
    ("get", "/v1/admin/kb/documents", "200"): [
        ("Rebuild", "post", "/v1/admin/kb/rebuild", {}),
        ("ReplaceDocument", "put", DOC, {"parameters": {"path.doc_id": "$response.body#/0/doc_id"}}),
        ("DeleteDocument", "delete", DOC, {"parameters": {"path.doc_id": "$response.body#/0/doc_id"}}),
    ],
}


def add_links(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` (an OpenAPI document) with LINKS added to its responses; sources or targets the
    schema lacks (a router not mounted) are skipped."""
    paths = schema.get("paths", {})
    for (method, path, status), links in LINKS.items():
        source = paths.get(path, {}).get(method)
        if source is None:
            continue
        response = source.setdefault("responses", {}).setdefault(status, {"description": "success"})
        for name, t_method, t_path, body in links:
            target = paths.get(t_path, {}).get(t_method)
            if target is not None and "operationId" in target:
                response.setdefault("links", {})[name] = {"operationId": target["operationId"], **body}
    return schema


def install(app: FastAPI) -> None:
    """Serve LINKS in the app's /openapi.json (built once, on first request, like FastAPI's own)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_links(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
