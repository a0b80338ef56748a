"""Speech on a lobby-robot session: the visitor's PCM16 audio through the same VoiceSession the phone
line uses (VAD, Whisper, barge-in), spoken in robot protocol v1 by RobotAudioOut; text replies read aloud."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

import numpy as np
from pydantic import BaseModel

from assistant.channels import robot_protocol as rp
from assistant.channels.voice_types import CallOutcome, SessionConfig, SessionServices, VoicePrompts
from assistant.privacy import redact

if TYPE_CHECKING:
    from assistant.channels.voice_session import VoiceSession
    from voice.stack import VoiceStack


class RobotLink(Protocol):
    """What robot speech sends through (RobotSession implements it)."""

    async def send(self, msg: BaseModel) -> None: ...
    async def send_raw(self, frame: dict) -> None: ...
    async def send_bytes(self, data: bytes) -> None: ...
    async def survey(self) -> None: ...


class RobotAudioOut:
    """VoiceSession's audio-out protocol, spoken in robot protocol v1."""

    def __init__(self, link: RobotLink) -> None:
        self.s = link

    async def play(self, pcm16: np.ndarray, rate: int, mark: str) -> None:
        data = pcm16.astype("<i2").tobytes()
        await self.s.send(rp.Audio(mark=mark, sample_rate=rate, bytes=len(data)))
        await self.s.send_bytes(data)

    async def clear(self) -> None:
        await self.s.send_raw({"v": 1, "type": "clear"})

    async def notify(self, event: dict) -> None:
        kind = event.get("type")
        if kind in ("transcript", "partial"):
            # A lobby screen is public: it shows what the visitor said as stored, redacted.
            await self.s.send(rp.Transcript(final=kind == "transcript", text=redact(event.get("text", "")).text))
        elif kind in ("barge_in", "speech_started"):
            await self.s.send_raw({"v": 1, **event})
        elif kind == "reply" and event.get("survey"):  # a spoken goodbye: the rating is asked on screen
            await self.s.survey()

    async def end(self, outcome: CallOutcome) -> None:
        pass  # a robot session outlives one spoken exchange


class RobotVoice:
    """`stack` None: speech is not installed here (audio frames get `voice_unavailable`)."""

    def __init__(self, link: RobotLink, services: SessionServices, stack: VoiceStack | None, unavailable: str) -> None:
        self.link, self.services, self.stack, self.unavailable = link, services, stack, unavailable
        self.session: VoiceSession | None = None

    async def audio(self, data: bytes, cid: str | None) -> tuple[rp.ErrorCode, str] | None:
        """One binary frame of the visitor's speech; an (error code, message) to answer a bad or unusable one."""
        if len(data) > rp.MAX_AUDIO_FRAME or len(data) % 2:
            return ("frame_too_large" if len(data) > rp.MAX_AUDIO_FRAME else "malformed",
                    f"audio frames are PCM16 LE mono 16 kHz, at most {rp.MAX_AUDIO_FRAME} bytes")
        if self.stack is None:
            return ("voice_unavailable", self.unavailable)
        if self.session is None:
            from assistant.channels.voice_session import VoiceSession

            config = SessionConfig(prompts=VoicePrompts(greeting=""), channel="robot", partials=True, keypad=False,
                                   silence_reprompt_s=1e9)  # a robot stays quiet until a visitor speaks
            self.session = VoiceSession(stack=self.stack, services=self.services, out=RobotAudioOut(self.link),
                                        config=config)
            await self.session.start(cid)
        await self.session.feed(np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0)
        return None

    def played(self, mark: str) -> None:
        if self.session is not None:
            self.session.played(mark)

    async def speak(self, text: str) -> None:
        """A text reply read aloud, clip by clip (marks t1, t2, ...)."""
        stack = self.stack
        if stack is None:
            return
        out = RobotAudioOut(self.link)
        clips = await asyncio.to_thread(lambda: list(stack.tts.synthesize(text)))
        for i, clip in enumerate(clips, 1):
            await out.play(clip.pcm16, clip.sample_rate, f"t{i}")

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close("robot_disconnected")
