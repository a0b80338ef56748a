"""A lobby robot's screen is public: what a visitor said is shown redacted, as stored."""

import asyncio

from assistant.channels.robot_voice import RobotAudioOut


class _Screen:
    """The session side RobotAudioOut sends through (RobotSession.send / send_raw)."""

    def __init__(self) -> None:
        self.sent: list = []

    async def send(self, msg) -> None:
        self.sent.append(msg)

    async def send_raw(self, frame: dict) -> None:
        self.sent.append(frame)


def test_robot_screen_shows_the_redacted_transcript():
    screen = _Screen()
    out = RobotAudioOut(screen)
    spoken = "my card is four one one one one one one one one one one one one one one one and my pin is 4821"

    async def speak():
        await out.notify({"type": "partial", "text": "my ssn is 123.45.6789"})
        await out.notify({"type": "transcript", "text": spoken})

    asyncio.run(speak())
    assert [(m.final, m.text) for m in screen.sent] == [
        (False, "my ssn is [SSN]"), (True, "my card is [CARD] and my pin is [PIN]")]
