"""Spoken turns count toward the per-conversation turn limit like typed ones, and the caller hears why."""

import asyncio

import numpy as np
import pytest

pytest.importorskip("faster_whisper")

from assistant.channels.voice_session import SessionConfig, VoiceSession  # noqa: E402
from assistant.core.events import Reply, TurnStarted  # noqa: E402
from assistant.throttle import Throttle, ThrottledPipeline, bind, unbind  # noqa: E402
from tests.unit.test_voice_session import EchoOut, FakeASR, FakeTTS, Services  # noqa: E402
from voice.stack import VoiceStack  # noqa: E402
from voice.vad import SileroVAD, TurnEnded  # noqa: E402

RULES = {"ip": "100/minute", "ws_connect": "100/minute", "turn": "2/minute", "conversation": "9/hour", "ticket": "9/hour"}


def test_a_caller_over_the_turn_limit_is_told_to_wait_and_the_pipeline_is_not_run():
    async def call():
        token = bind(Throttle(RULES), "203.0.113.7")  # what the app's middleware does for the socket
        try:
            services, out = Services([TurnStarted("c1"), Reply("c1", "The fee is $10.", path="faq")]), EchoOut()
            inner = services.pipeline
            services.pipeline = ThrottledPipeline(inner)
            session = VoiceSession(stack=VoiceStack(asr=FakeASR("what is the fee"), tts=FakeTTS(), vad=SileroVAD()),
                                   services=services, out=out, config=SessionConfig())
            out.session = session
            await session.start()
            await asyncio.sleep(0.05)
            said = []
            for _ in range(3):
                out.said.clear()
                session._turn_ended(TurnEnded(np.zeros(16000, np.float32), 1.0, 1.0))
                await session._turn
                await asyncio.sleep(0.05)
                said.append(" ".join(out.said))
            return said, len(inner.turns), session.cfg.prompts.slow_down
        finally:
            unbind(token)

    said, turns_run, slow_down = asyncio.run(call())
    assert said[:2] == ["The fee is $10.", "The fee is $10."] and said[2] == slow_down
    assert turns_run == 2
