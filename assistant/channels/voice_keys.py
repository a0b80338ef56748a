"""A call's keypad: a 1-5 rating after the goodbye, 0 for an agent, 1/2 for yes/no at a read-back, digits + #
for one-time codes and the keypad sign-in (keypad.py holds the key state, core/sign_in.py the sign-in).
Digits are never logged or stored.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Literal, Protocol

from assistant.analytics.csat import asks_survey
from assistant.channels.keypad import PROMPTS, Answer, Entry, Keypad
from assistant.channels.voice_types import AudioOut, CallOutcome, SessionConfig, SessionServices

if TYPE_CHECKING:
    from assistant.channels.voice_store import CallStore
    from assistant.channels.voice_turns import Turns
    from assistant.core.events import Reply
    from voice.vad import TurnDetector

RATINGS = ("1", "2", "3", "4", "5")


class KeyedCall(Protocol):
    """What the keypad uses of the call (VoiceSession implements it)."""

    cfg: SessionConfig
    services: SessionServices
    out: AudioOut
    store: CallStore
    turns: Turns
    detector: TurnDetector

    @property
    def ending(self) -> bool: ...
    async def interrupt(self, why: Literal["dtmf"]) -> None: ...
    def say(self, text: str) -> None: ...
    def end_when_said(self, outcome: CallOutcome) -> None: ...
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task: ...


class CallKeys:
    def __init__(self, call: KeyedCall) -> None:
        self.call = call
        self.keypad = Keypad()
        self.survey = False  # the caller said goodbye and was asked for a keypad rating 1-5
        self._customer_number: str | None = None  # typed for a sign-in, until the PIN is
        self._entries = asyncio.Lock()  # finished entries are handled one at a time, in the order typed

    def after_reply(self, final: Reply) -> str | None:
        """What to add to a spoken reply: the keypad prompt for what the flow waits for, or the survey question."""
        cfg = self.call.cfg
        prompt = self.keypad.expect(final.flow.awaiting if final.flow else None,
                                    sign_in=self.call.services.keypad is not None) if cfg.keypad else None
        self.survey = asks_survey(final) and cfg.csat
        return cfg.prompts.csat_ask if self.survey else prompt

    async def press(self, digit: str) -> None:
        if self.survey and digit in RATINGS:
            await self._rated(int(digit))
            return
        if self.call.ending:
            return
        pressed = self.keypad.press(digit)
        if pressed == "agent":
            await self._agent()
        elif isinstance(pressed, Answer):
            await self.call.interrupt("dtmf")
            self.call.turns.start_text(pressed.text)
        elif isinstance(pressed, Entry):
            self.call.spawn(self._in_order(pressed))  # off the transport's loop: a sign-in waits for the bank

    async def _in_order(self, entry: Entry) -> None:
        """Handle entries in the order typed. A caller types the PIN right after the customer number, often
        over the prompt: the number's handling (stop talking, store the note) must finish before the PIN's
        starts, or the PIN finds no number and is dropped."""
        async with self._entries:
            await self._keyed(entry)

    async def _agent(self) -> None:
        call = self.call
        self.survey = False
        await call.interrupt("dtmf")
        call.detector.reset()
        ticket = await call.store.request_handoff("caller pressed 0 for an agent")
        await call.store.note(f"Caller pressed 0 for an agent{f' (ticket {ticket})' if ticket else ''}.", "dtmf")
        call.end_when_said(CallOutcome("transfer", ticket, "dtmf"))
        await call.out.notify({"type": "handoff", "ticket_id": ticket, "reason": "dtmf"})
        call.say(call.cfg.prompts.transfer)

    async def _keyed(self, entry: Entry) -> None:
        """A finished entry: a one-time code becomes a turn; a customer number asks for the PIN; a PIN signs in."""
        await self.call.interrupt("dtmf")
        if entry.mode == "code":
            self.call.turns.start_text(entry.digits)
        elif entry.mode == "number":
            self._customer_number = entry.digits
            self.call.say(PROMPTS["pin"])
        else:
            await self._sign_in(entry.digits)

    async def _sign_in(self, pin: str) -> None:
        call, number, self._customer_number = self.call, self._customer_number, None
        keypad_sign_in, cid = call.services.keypad, call.store.conversation_id
        if keypad_sign_in is None or not cid or not number:
            self.keypad.cancel()
            return
        try:
            result = await keypad_sign_in.sign_in(cid, number, pin, call.cfg.channel)
        except Exception as exc:  # the store failed: an apology, as for a failed turn
            await call.turns.failed(exc, time.perf_counter())
            return
        await call.out.notify({"type": "sign_in", "status": result.status})
        if result.reply is not None:
            prompt = self.keypad.expect(result.reply.flow.awaiting if result.reply.flow else None, sign_in=True)
            call.say(" ".join(filter(None, [result.reply.text, prompt])))
        elif result.status == "rejected":
            call.say(" ".join(filter(None, [result.text, self.keypad.expect("identity", sign_in=True)])))
        else:
            self.keypad.cancel()
            call.say(result.text)

    async def _rated(self, score: int) -> None:
        """A keypad rating after the goodbye: stored once (a second key press is ignored), thanks, hang up."""
        self.survey = False
        await self.call.interrupt("dtmf")
        await self.call.store.rating(score)
        await self.call.out.notify({"type": "csat", "score": score})
        self.call.end_when_said(CallOutcome("hangup", reason="survey"))
        self.call.say(self.call.cfg.prompts.csat_thanks)
