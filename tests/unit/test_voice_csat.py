"""The phone survey: after the caller's goodbye the session asks for a keypad rating 1-5, stores it (the real
CsatRepository on SQLite), thanks the caller and hangs up; other keys and other replies do not rate."""

import asyncio

import numpy as np
import pytest
from sqlalchemy import insert, select

pytest.importorskip("faster_whisper")

from assistant.analytics.csat import CsatRepository  # noqa: E402
from assistant.channels.voice_session import CallOutcome, SessionConfig, VoiceSession  # noqa: E402
from assistant.core.events import IntentInfo, Reply, TurnStarted  # noqa: E402
from assistant.storage.analytics_tables import CsatResponse  # noqa: E402
from assistant.storage.db import make_engine, migrate, session_factory  # noqa: E402
from assistant.storage.models import Conversation, utcnow  # noqa: E402
from tests.unit.test_voice_session import EchoOut, FakeASR, FakeTTS, Services  # noqa: E402
from voice.stack import VoiceStack  # noqa: E402
from voice.vad import SileroVAD, TurnEnded  # noqa: E402

GOODBYE = Reply("c1", "Thank you for contacting us. Have a great day!", path="small_talk",
                intent=IntentInfo("goodbye", 0.97))
FEE = Reply("c1", "The fee is $10.", path="faq", intent=IntentInfo("fees", 0.9))


@pytest.fixture
def csat(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'v.db'}")
    migrate(engine)
    with engine.begin() as c:
        c.execute(insert(Conversation.__table__).values(id="c1", channel="voice", status="bot", created_at=utcnow(),
                                                        updated_at=utcnow()))
    yield CsatRepository(session_factory(engine)), engine
    engine.dispose()


def scores(engine) -> list[tuple]:
    with engine.connect() as c:
        t = CsatResponse.__table__
        return [tuple(r) for r in c.execute(select(t.c.conversation_id, t.c.channel, t.c.score))]


async def call(reply: Reply, repo: CsatRepository, *, csat: bool = True, silence_s: float = 8.0):
    services, out = Services([TurnStarted("c1"), reply]), EchoOut()
    services.csat = repo
    session = VoiceSession(stack=VoiceStack(asr=FakeASR("bye"), tts=FakeTTS(), vad=SileroVAD()), services=services,
                           out=out, config=SessionConfig(csat=csat, silence_reprompt_s=silence_s))
    out.session = session
    await session.start("c1")
    await asyncio.sleep(0.05)
    out.said.clear()
    session._turn_ended(TurnEnded(np.zeros(16000, np.float32), 1.0, 1.0))
    await session._turn
    await asyncio.sleep(0.05)
    return session, out


def test_goodbye_asks_for_a_keypad_rating_which_is_stored_then_the_call_ends(csat):
    repo, engine = csat

    async def run():
        session, out = await call(GOODBYE, repo)
        said = " ".join(out.said)
        assert said.startswith(GOODBYE.text) and "press 1 for very dissatisfied" in said
        assert {"type": "reply", "text": GOODBYE.text, "path": "small_talk", "citations": [], "survey": True} in out.events
        out.said.clear()
        await session.dtmf("4")
        await asyncio.sleep(0.05)
        assert out.said == ["Thank you for your rating.", "Goodbye."]
        assert out.ended == CallOutcome("hangup", reason="survey")
        await session.dtmf("5")  # a second key after the rating changes nothing
        await session.close()

    asyncio.run(run())
    assert scores(engine) == [("c1", "voice", 4)]


def test_keys_rate_nothing_without_the_goodbye_and_zero_still_transfers(csat):
    repo, engine = csat

    async def run():
        session, out = await call(FEE, repo)
        assert "keypad" not in " ".join(out.said)
        await session.dtmf("4")
        assert out.ended is None
        await session.dtmf("0")  # no hand-off service in these fakes: the transfer is still said
        assert session._ending is not None and session._ending.kind == "transfer"
        await session.close()

    asyncio.run(run())
    assert scores(engine) == []


def test_no_key_after_the_goodbye_ends_the_call_without_a_rating(csat):
    repo, engine = csat

    async def run():
        session, out = await call(GOODBYE, repo, silence_s=0.0)
        out.said.clear()
        await session._check_silence()
        await asyncio.sleep(0.05)
        assert out.said == ["Thank you for calling.", "Goodbye."]
        assert out.ended == CallOutcome("hangup", reason="survey_timeout")
        await session.dtmf("3")  # too late
        await session.close()

    asyncio.run(run())
    assert scores(engine) == []


def test_the_robot_voice_channel_does_not_use_the_keypad(csat):
    repo, engine = csat

    async def run():
        session, out = await call(GOODBYE, repo, csat=False)
        assert "keypad" not in " ".join(out.said)
        assert out.events[-1]["survey"] is True  # the robot shows its survey on screen instead
        await session.dtmf("5")
        await session.close()

    asyncio.run(run())
    assert scores(engine) == []
