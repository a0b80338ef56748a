"""Any OpenAI-compatible chat server (vLLM, llama.cpp server, our own `bankassist llm-serve`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx

from assistant.llm.base import GenerationError, GenerationRequest


class OpenAICompatibleGenerator:
    def __init__(self, *, base_url: str, model: str, api_key: str = "", timeout_s: float = 60.0) -> None:
        self.name = f"{model}@{base_url}"
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = httpx.Timeout(timeout_s, connect=5.0)

    def close(self) -> None:
        pass  # each request opens and closes its own connection

    async def stream(self, request: GenerationRequest) -> AsyncIterator[str]:
        body = {
            "model": self._model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_new_tokens,
            "temperature": request.temperature,
            "stream": True,
        }
        try:
            async with (
                httpx.AsyncClient(timeout=self._timeout) as client,
                client.stream("POST", self._url, json=body, headers=self._headers) as resp,
            ):
                    if resp.status_code != 200:
                        detail = (await resp.aread())[:300].decode("utf-8", "replace")
                        raise GenerationError(f"LLM server answered {resp.status_code}: {detail}")
                    async for line in resp.aiter_lines():
                        if not line.startswith("data:"):
                            continue
                        data = line[5:].strip()
                        if data == "[DONE]":
                            break
                        choices = json.loads(data).get("choices") or [{}]
                        delta = (choices[0].get("delta") or {}).get("content")
                        if delta:
                            yield delta
        except httpx.HTTPError as exc:
            raise GenerationError(f"LLM server unreachable or timed out: {exc!r}") from exc
        except (json.JSONDecodeError, AttributeError) as exc:
            raise GenerationError(f"LLM server sent a malformed stream: {exc!r}") from exc
