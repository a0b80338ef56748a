"""Both in-process generators (real SmolLM2): one generation at a time, and a bounded wait for a turn."""

import asyncio

import pytest

from assistant.llm import ChatMessage, GenerationError, GenerationRequest
from assistant.services import build_generator

REQUEST = GenerationRequest(messages=(ChatMessage("system", "You are a bank assistant."),
                                      ChatMessage("user", "Say hello to the customer.")), max_new_tokens=24)


@pytest.mark.parametrize("backend,kind", [("llamacpp", "LlamaCppGenerator"), ("local", "LocalLoraGenerator")])
def test_a_turn_that_waits_too_long_is_a_generation_error(settings, services, backend, kind):
    gen = services.generator if services.settings.llm.backend == backend else \
        build_generator(settings.changed(llm__backend=backend))
    assert type(gen).__name__ == kind

    async def consume(g):
        return "".join([piece async for piece in g.stream(REQUEST)])

    async def race():
        first = asyncio.create_task(consume(gen))
        await asyncio.sleep(0.05)  # the first stream holds the model
        saved, gen._turns.queue_timeout_s = gen._turns.queue_timeout_s, 0.01
        try:
            with pytest.raises(GenerationError, match="model busy"):
                await consume(gen)
        finally:
            gen._turns.queue_timeout_s = saved
        return await first

    assert asyncio.run(race()).strip()  # the first answer is unharmed
