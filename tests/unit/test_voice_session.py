"""VoiceSession turn logic with fakes of the real interfaces (ASR, TTS, pipeline, repository, transport)."""

import asyncio
import itertools

import numpy as np
import pytest

pytest.importorskip("faster_whisper")

from assistant.channels.voice_session import SessionConfig, VoiceSession  # noqa: E402
from assistant.core.events import Reply, ReplyDelta, TurnStarted  # noqa: E402
from voice.asr import Transcript  # noqa: E402
from voice.stack import VoiceStack  # noqa: E402
from voice.tts import SpeechAudio  # noqa: E402
from voice.vad import SileroVAD, TurnEnded  # noqa: E402


class FakeASR:
    name, fit_max_s = "fake", 10.0

    def __init__(self, text: str) -> None:
        self.text = text

    def transcribe(self, audio, *, language=None) -> Transcript:
        return Transcript(self.text, "en", len(audio) / 16000, 0.01)


class FakeTTS:
    name, sample_rate = "fake", 16000

    def synthesize_all(self, text: str) -> SpeechAudio:
        return SpeechAudio(np.ones(1600, np.int16), 16000, text)


class FakeRepo:
    def __init__(self) -> None:
        self.messages, self._ids = [], itertools.count(1)

    def create(self, channel):
        return "c1"

    def start_session(self, channel):
        return "c1", "cst_fake"

    def exists(self, cid):
        return cid == "c1"

    def add(self, cid, *, role, text, channel, **fields):
        self.messages.append({"role": role, "text": text, **fields})
        return next(self._ids)


class FakePipeline:
    def __init__(self, events) -> None:
        self.events, self.turns = events, []

    async def run(self, turn):
        self.turns.append(turn)
        for ev in self.events:
            await asyncio.sleep(0)
            yield ev


class Services:
    def __init__(self, events) -> None:
        self.conversations, self.pipeline = FakeRepo(), FakePipeline(events)
        self.handoff = self.tickets = None  # no agent desk: a transfer goes without a ticket
        self.keypad = None  # keypad sign-in off (no bank)


class EchoOut:
    """Plays instantly: each mark comes straight back."""

    def __init__(self) -> None:
        self.said, self.cleared, self.events, self.ended = [], 0, [], None
        self.session = None

    async def play(self, pcm16, rate, mark):
        self.said.append(self.session.playback.sentence(mark))
        self.session.played(mark)

    async def clear(self):
        self.cleared += 1

    async def notify(self, event):
        self.events.append(event)

    async def end(self, outcome):
        self.ended = outcome


async def _call(events, text="what is the fee"):
    services, out = Services(events), EchoOut()
    stack = VoiceStack(asr=FakeASR(text), tts=FakeTTS(), vad=SileroVAD())
    session = VoiceSession(stack=stack, services=services, out=out, config=SessionConfig())
    out.session = session
    await session.start()
    await asyncio.sleep(0.05)
    out.said.clear()
    session._turn_ended(TurnEnded(np.zeros(16000, np.float32), 1.0, 1.0))
    await session._turn
    await asyncio.sleep(0.05)
    return session, services, out


def test_streamed_sentences_then_the_rest_of_the_final_reply():
    final = "The monthly fee is $10. It is waived with a $500 balance."
    events = [TurnStarted("c1"), ReplyDelta("c1", "The monthly fee is $10. "), ReplyDelta("c1", "It is waived"),
              ReplyDelta("c1", " with a $500 balance."), Reply("c1", final, path="generated")]
    session, services, out = asyncio.run(_call(events))
    assert out.said == ["The monthly fee is $10.", "It is waived with a $500 balance."]
    assert services.pipeline.turns[0].channel == "voice" and services.pipeline.turns[0].conversation_id == "c1"


def test_guard_replacement_speaks_the_authoritative_final_text():
    final = "Here is what our Everyday Checking information says: the monthly fee is $10."
    events = [TurnStarted("c1"), ReplyDelta("c1", "Everyday Checking is our basic account. "),
              ReplyDelta("c1", "It costs "), Reply("c1", final, path="extractive")]
    session, _, out = asyncio.run(_call(events))
    assert out.said[0] == "Everyday Checking is our basic account."
    assert " ".join(out.said[1:]) == final  # "It costs" (never verified) is not said


def test_empty_transcript_becomes_a_clarifying_question_without_a_turn():
    session, services, out = asyncio.run(_call([], text="  "))
    assert services.pipeline.turns == []
    assert " ".join(out.said) == session.cfg.prompts.not_heard


class FailingPipeline(FakePipeline):
    """Streams a first sentence, then fails (a database error, a model crash) on the first turn only."""

    async def run(self, turn):
        self.turns.append(turn)
        if len(self.turns) == 1:
            yield ReplyDelta("c1", "Let me look that up. ")
            await asyncio.sleep(0)
            raise RuntimeError("database is locked")
        async for ev in FakePipeline(self.events).run(turn):
            yield ev


def test_a_failed_turn_apologises_and_the_call_goes_on():
    async def turn(session, out) -> list[str]:
        out.said.clear()
        session._turn_ended(TurnEnded(np.zeros(16000, np.float32), 1.0, 1.0))
        await session._turn  # returns: a failure does not escape the turn task
        await asyncio.sleep(0.05)
        return list(out.said)

    async def run():
        services, out = Services([TurnStarted("c1"), Reply("c1", "The fee is $10.", path="faq")]), EchoOut()
        services.pipeline = FailingPipeline(services.pipeline.events)
        session = VoiceSession(stack=VoiceStack(asr=FakeASR("what is the fee"), tts=FakeTTS(), vad=SileroVAD()),
                               services=services, out=out, config=SessionConfig())
        out.session = session
        await session.start()
        await asyncio.sleep(0.05)
        first = await turn(session, out)
        assert session.cfg.prompts.apology in " ".join(first)
        assert {"type": "error", "detail": "this turn failed; please say it again"} in out.events
        notes = services.conversations.messages
        assert any(m["path"] == "turn_error" and "RuntimeError" in m["text"] for m in notes)
        assert all("database is locked" not in m["text"] for m in notes)
        assert await turn(session, out) == ["The fee is $10."]  # the next turn is answered normally
        await session.close()

    asyncio.run(run())


class FakeKeypadSignIn:
    """The bank's answer to a keypad sign-in (the real one: tests/integration/test_keypad_sign_in.py)."""

    def __init__(self) -> None:
        self.calls = []

    async def sign_in(self, cid, number, pin, channel):
        from assistant.core.events import FlowInfo
        from assistant.core.sign_in import SignInResult

        self.calls.append((cid, number, pin, channel))
        if pin != "2580":
            return SignInResult("rejected", "Sorry, that customer number or PIN isn't right.", attempts_left=2)
        reply = Reply(cid, "Your checking balance is $3,500.00. Anything else?", path="flow",
                      flow=FlowInfo("check_balance", None))
        return SignInResult("signed_in", "signed in", reply)


def _keys(session, keys: str):
    async def press():
        for k in keys:
            await session.dtmf(k)
        await asyncio.sleep(0.05)
        if session._turn is not None:
            await session._turn
        await asyncio.sleep(0.05)
    return press()


def test_a_read_back_is_answered_with_1_and_a_code_typed_with_0_in_it():
    from assistant.core.events import FlowInfo

    confirm = Reply("c1", "Move $20 from checking to savings?", path="flow", flow=FlowInfo("transfer", "confirm"))
    session, services, out = asyncio.run(_call([TurnStarted("c1"), confirm]))
    assert out.said[-1] == "Say yes or press 1 to go ahead, or say no or press 2."
    services.pipeline.events = [TurnStarted("c1"), Reply("c1", "Enter the code we sent.", path="flow",
                                                         flow=FlowInfo("transfer", "code"))]
    asyncio.run(_keys(session, "1"))
    assert services.pipeline.turns[-1].text == "yes"
    assert "type it on the keypad" in " ".join(out.said)
    services.pipeline.events = [TurnStarted("c1"), Reply("c1", "Done.", path="flow")]
    asyncio.run(_keys(session, "1020#"))
    assert services.pipeline.turns[-1].text == "1020" and out.ended is None  # 0 was a digit, not an agent


def test_a_caller_signs_in_by_keypad_and_a_wrong_pin_asks_again():
    from assistant.core.events import FlowInfo

    waiting = Reply("c1", "To do that I first need to confirm it's you.", path="flow",
                    flow=FlowInfo("check_balance", "identity"))

    async def scenario():
        services, out = Services([TurnStarted("c1"), waiting]), EchoOut()
        services.keypad = FakeKeypadSignIn()
        session = VoiceSession(stack=VoiceStack(asr=FakeASR("what's my balance"), tts=FakeTTS(), vad=SileroVAD()),
                               services=services, out=out, config=SessionConfig())
        out.session = session
        await session.start()
        await asyncio.sleep(0.05)
        session._turn_ended(TurnEnded(np.zeros(16000, np.float32), 1.0, 1.0))
        await session._turn
        await asyncio.sleep(0.05)
        assert "customer number on the keypad" in " ".join(out.said)
        await _keys(session, "40012345#1111#")
        assert "isn't right" in out.said[-2] and "customer number" in out.said[-1]
        await _keys(session, "40012345#2580#")
        return services, out

    services, out = asyncio.run(scenario())
    assert [c[1:] for c in services.keypad.calls] == [("40012345", "1111", "voice"), ("40012345", "2580", "voice")]
    assert "Your checking balance is $3,500.00." in out.said
    assert {"type": "sign_in", "status": "signed_in"} in out.events
    assert len(services.pipeline.turns) == 1  # the digits never became a turn (nor stored text)
    assert all("2580" not in m["text"] and "40012345" not in m["text"] for m in services.conversations.messages)


class SlowTTS(FakeTTS):
    def synthesize_all(self, text: str) -> SpeechAudio:
        import time

        time.sleep(0.2)
        return super().synthesize_all(text)


class SlowRepo(FakeRepo):
    def add(self, cid, **fields):
        import time

        time.sleep(0.05)  # a commit
        return super().add(cid, **fields)


class SlowOut(EchoOut):
    """Plays in real time: each mark comes back 50 ms after its audio."""

    async def play(self, pcm16, rate, mark):
        self.said.append(self.session.playback.sentence(mark))
        asyncio.get_running_loop().call_later(0.05, self.session.played, mark)


def test_a_pin_typed_right_after_the_number_while_the_prompt_is_made_still_signs_in():
    """The caller types while the keypad prompt is still being synthesised (a slow box): the number's entry
    stops it and stores a note (a commit takes a while) while the PIN's entry is already typed. The
    entries are handled in order, so the PIN finds the number (it was dropped: the phone keypad bug)."""
    from assistant.core.events import FlowInfo

    waiting = Reply("c1", "To do that I first need to confirm it's you.", path="flow",
                    flow=FlowInfo("check_balance", "identity"))

    async def scenario():
        services, out = Services([TurnStarted("c1"), waiting]), SlowOut()
        services.keypad, services.conversations = FakeKeypadSignIn(), SlowRepo()
        session = VoiceSession(stack=VoiceStack(asr=FakeASR("what's my balance"), tts=SlowTTS(), vad=SileroVAD()),
                               services=services, out=out, config=SessionConfig())
        out.session = session
        await session.start()
        await asyncio.sleep(0.5)  # the greeting played
        session._turn_ended(TurnEnded(np.zeros(16000, np.float32), 1.0, 1.0))
        for _ in range(300):
            if "To do that I first need to confirm it's you." in out.said:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # its mark came back; the prompt is still being synthesised
        for k in "40012345#2580#":
            await session.dtmf(k)
            await asyncio.sleep(0)  # a transport yields between messages
        for _ in range(100):
            if services.keypad.calls and not session.speaking:
                break
            await asyncio.sleep(0.02)
        await session.close()
        return services, out

    services, out = asyncio.run(scenario())
    assert [c[1:] for c in services.keypad.calls] == [("40012345", "2580", "voice")]
    assert "Your checking balance is $3,500.00." in out.said
