"""Serve a local Generator over the OpenAI chat-completions protocol (`bankassist llm-serve`).

Lets a bank run the model on its own box, apart from the API replicas, on CPU, with the same
client (OpenAICompatibleGenerator) that talks to vLLM or llama.cpp's server on a GPU box.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Literal

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from assistant.llm.base import ChatMessage, GenerationError, GenerationRequest, Generator


class _Msg(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=32_000)


class CompletionRequest(BaseModel):
    model: str = "bankassist"
    messages: list[_Msg] = Field(min_length=1, max_length=64)
    max_tokens: int = Field(default=160, ge=1, le=1024)
    temperature: float = 0.0
    stream: bool = False


def create_llm_app(generator: Generator, model_name: str = "bankassist") -> FastAPI:
    app = FastAPI(title="bankassist LLM server (OpenAI-compatible)")

    @app.get("/v1/models")
    async def models() -> dict:
        return {"object": "list", "data": [{"id": model_name, "object": "model", "owned_by": "bankassist"}]}

    @app.post("/v1/chat/completions", response_model=None)
    async def completions(body: CompletionRequest):
        request = GenerationRequest(
            messages=tuple(ChatMessage(m.role, m.content) for m in body.messages), max_new_tokens=body.max_tokens,
        )
        cid, created = f"chatcmpl-{uuid.uuid4().hex[:12]}", int(time.time())

        def chunk(delta: dict, finish: str | None = None) -> str:
            data = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model_name,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(data)}\n\n"

        if body.stream:
            async def events():
                yield chunk({"role": "assistant"})
                try:
                    async for piece in generator.stream(request):
                        yield chunk({"content": piece})
                    yield chunk({}, "stop")
                except GenerationError as exc:
                    yield f"data: {json.dumps({'error': {'message': str(exc)}})}\n\n"
                yield "data: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")
        text = "".join([piece async for piece in generator.stream(request)])
        return {"id": cid, "object": "chat.completion", "created": created, "model": model_name,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}

    return app
