"""OpenAICompatibleGenerator against a real OpenAI-protocol server running SmolLM2 over HTTP."""

import asyncio
import socket
import threading
import time

import httpx
import pytest
import uvicorn

from assistant.llm import ChatMessage, GenerationError, GenerationRequest
from assistant.llm.openai_compat import OpenAICompatibleGenerator
from assistant.llm.server import create_llm_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llm_server(services):
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_llm_app(services.generator), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(5)


REQ = GenerationRequest(messages=(ChatMessage("user", "Say hello to a bank customer."),), max_new_tokens=12)


def test_streams_from_a_real_server(llm_server):
    gen = OpenAICompatibleGenerator(base_url=llm_server, model="bankassist")

    async def collect():
        return [p async for p in gen.stream(REQ)]

    pieces = asyncio.run(collect())
    assert len(pieces) > 1 and "".join(pieces).strip()
    body = httpx.post(f"{llm_server}/chat/completions", json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}).json()
    assert body["choices"][0]["message"]["content"]


def test_unreachable_server_is_a_generation_error():
    gen = OpenAICompatibleGenerator(base_url=f"http://127.0.0.1:{_free_port()}/v1", model="x", timeout_s=2)

    async def collect():
        return [p async for p in gen.stream(REQ)]

    with pytest.raises(GenerationError, match="unreachable"):
        asyncio.run(collect())
