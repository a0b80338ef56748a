"""What a call writes: notes, what the caller heard, their last words, tickets and ratings.

Every write is to the call's conversation; before `start` (no conversation yet) writes are skipped.
Raw caller text is stored only redacted, and never logged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from assistant.privacy import redact

if TYPE_CHECKING:
    import numpy as np

    from assistant.channels.voice_types import SessionServices
    from assistant.core.events import Channel, ReplyPath
    from voice.asr import ASR

log = logging.getLogger(__name__)


class CallStore:
    def __init__(self, services: SessionServices, channel: Channel) -> None:
        self.services, self.channel = services, channel
        self.conversation_id: str | None = None

    async def note(self, text: str, path: ReplyPath) -> None:
        """A system note in the conversation (what happened on the call, for agents and analytics)."""
        if self.conversation_id:
            await asyncio.to_thread(self.services.conversations.add, self.conversation_id, role="system",
                                    text=text, channel=self.channel, path=path)

    async def interrupted(self, heard: str) -> None:
        """A reply cut off before it was stored: what the caller heard of it is stored instead."""
        if self.conversation_id:
            await asyncio.to_thread(self.services.conversations.add, self.conversation_id, role="assistant",
                                    text=heard, channel=self.channel, path="interrupted")

    async def unanswered(self, asr: ASR, audio: np.ndarray) -> None:
        """Speech cut off by a hang-up: transcribed and stored (redacted), not answered."""
        cid = self.conversation_id
        if cid is None:  # the call never started
            return
        try:
            tr = await asyncio.to_thread(asr.transcribe, audio)
        except Exception:
            log.exception("transcribing the last words of a call failed")
            return
        if tr.text.strip():
            red = redact(tr.text)
            await asyncio.to_thread(self.services.conversations.add, cid, role="user", text=red.text,
                                    channel=self.channel, pii=red.found or None)

    async def request_handoff(self, reason: str) -> int | None:
        """A hand-off the caller asked for; its ticket id, or None without an agent desk."""
        handoff = self.services.handoff
        if handoff is None or self.conversation_id is None:
            return None
        try:
            started = await handoff.request(self.conversation_id, reason=reason, channel="voice")
            return started.ticket_id
        except Exception:  # the transfer still happens; the agent just gets no ticket
            log.exception("handoff request failed")
            return None

    async def open_ticket(self) -> int | None:
        """The ticket the pipeline's hand-off opened, if any."""
        tickets = self.services.tickets
        if tickets is None or self.conversation_id is None:
            return None
        ticket = await asyncio.to_thread(tickets.open_for, self.conversation_id)
        return ticket.id if ticket is not None else None

    async def rating(self, score: int) -> None:
        """A keypad rating 1-5, stored once; a failure is logged by type only (the caller still hears thanks)."""
        csat = self.services.csat
        if csat is None or not self.conversation_id:
            return
        try:
            await asyncio.to_thread(csat.record, self.conversation_id, score)
        except Exception as exc:  # already rated, or the store failed
            log.warning("keypad rating not stored: %s", type(exc).__name__)
