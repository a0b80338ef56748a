"""One spoken conversation over any audio channel: VAD -> ASR -> dialogue pipeline -> TTS.

Transports (Twilio media streams, the browser/robot PCM socket) only move audio: they feed
16 kHz float32 frames in, and implement `AudioOut` (play audio followed by a named mark,
clear, notify, end). The session owns turn-taking: greeting, end of turn, streaming the
reply sentence by sentence, barge-in (stop within one VAD window after `min_speech_ms`),
what the caller actually heard (sentences whose mark came back), the keypad (keypad.py), silence
reprompts and goodbye, handoff. Every failure becomes speech or a stored note, never a
dropped call. Raw caller text is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback

import numpy as np

from assistant.analytics.csat import asks_survey
from assistant.channels.keypad import PROMPTS, Answer, Entry, Keypad
from assistant.channels.voice_types import (
    AudioOut,
    CallOutcome,
    SessionConfig,
    SessionServices,
    Utterance,
    VoicePrompts,
)
from assistant.core.events import Reply, ReplyDelta, UserTurn
from assistant.privacy import redact
from assistant.throttle import Limited
from voice.sentences import SentenceChunker, split_sentences, unspoken_remainder
from voice.stack import VoiceStack
from voice.vad import Blip, Pause, SpeechStarted, TurnDetector, TurnEnded

log = logging.getLogger(__name__)
__all__ = ["AudioOut", "CallOutcome", "SessionConfig", "VoicePrompts", "VoiceSession"]


class VoiceSession:
    def __init__(self, *, stack: VoiceStack, services: SessionServices, out: AudioOut, config: SessionConfig | None = None) -> None:
        self.stack, self.services, self.out = stack, services, out
        self.cfg = config or SessionConfig()
        self.detector = TurnDetector(stack.vad, stack.turn)
        self.conversation_id: str | None = None
        self._marks: dict[str, str] = {}  # mark -> sentence, sent and not yet played
        self._heard: list[str] = []
        self._mark_n = 0
        self._utt: Utterance | None = None
        self._turn: asyncio.Task | None = None
        self._phase = "idle"  # of the turn task: asr | pipeline | done
        self._carry: np.ndarray | None = None  # audio of a turn cut off during ASR, joined to the next
        self._turn_audio: np.ndarray | None = None
        self._early: tuple[float, asyncio.Task] | None = None  # (speech_s at the pause, its transcription)
        self._partial: asyncio.Task | None = None
        self._last_partial_s = 0.0
        self._last_activity_s = 0.0
        self._reprompts = 0
        self._ending: CallOutcome | None = None
        self._survey = False  # the caller said goodbye and was asked for a keypad rating 1-5
        self._closed = False
        self._tasks: set[asyncio.Task] = set()
        self.turn_metrics: list[dict] = []
        self._keypad = Keypad()
        self._customer_number: str | None = None  # typed for a sign-in, until the PIN is

    # --- inputs from the transport

    async def start(self, conversation_id: str | None = None) -> str:
        """Continue `conversation_id` or start one whose session token goes to a screen, if the
        transport has one (the voice page reads it back). The transport has proven the caller may
        continue it: a phone stream by its signed call token, the PCM socket by the session token."""
        repo = self.services.conversations
        ready: dict = {"type": "ready"}
        known = False
        if conversation_id:
            known = await asyncio.to_thread(repo.exists, conversation_id)
        if conversation_id and known:
            cid = conversation_id
        else:
            cid, ready["session_token"] = await asyncio.to_thread(repo.start_session, self.cfg.channel)
        self.conversation_id = cid
        await self.out.notify({**ready, "conversation_id": cid})
        self._say(self.cfg.prompts.greeting)
        return cid

    async def feed(self, samples: np.ndarray) -> None:
        """16 kHz float32 caller audio, any frame size."""
        if self._closed:
            return
        for ev in self.detector.feed(samples):
            if isinstance(ev, SpeechStarted):
                await self._speech_started()
            elif isinstance(ev, Pause):
                self._early_transcribe(ev)
            elif isinstance(ev, TurnEnded):
                self._turn_ended(ev)
            elif isinstance(ev, Blip):
                self._last_activity_s = self.detector.position_s
        self._maybe_partial()
        await self._check_silence()

    def played(self, mark: str) -> None:
        """The peer played everything up to this mark."""
        sentence = self._marks.pop(mark, None)
        if self._utt is not None:
            self._utt.played(mark)
        if sentence is None:
            return  # a mark echoed after clear: its audio was dropped, not heard
        self._heard.append(sentence)
        self._after_playback()

    def _after_playback(self) -> None:
        if self.speaking or self._closed:
            return
        self._last_activity_s = self.detector.position_s
        if self._ending is not None:
            self._spawn(self._end(self._ending))

    async def dtmf(self, digit: str) -> None:
        """A keypress: a 1-5 rating after the goodbye, 0 for an agent, 1/2 for yes/no at a read-back,
        digits + # for codes and sign-in (keypad.py)."""
        if self._survey and digit in ("1", "2", "3", "4", "5") and not self._closed:
            await self._rated(int(digit))
            return
        if self._closed or self._ending is not None:
            return
        pressed = self._keypad.press(digit)
        if pressed == "agent":
            await self._agent_by_keypad()
        elif isinstance(pressed, Answer):
            await self._interrupt("dtmf")
            self._start_text_turn(pressed.text)
        elif isinstance(pressed, Entry):
            self._spawn(self._keyed(pressed))

    async def _agent_by_keypad(self) -> None:
        self._survey = False
        await self._interrupt("dtmf")
        self.detector.reset()
        ticket = await self._request_handoff("caller pressed 0 for an agent")
        await self._note(f"Caller pressed 0 for an agent{f' (ticket {ticket})' if ticket else ''}.", "dtmf")
        self._ending = CallOutcome("transfer", ticket, "dtmf")
        await self.out.notify({"type": "handoff", "ticket_id": ticket, "reason": "dtmf"})
        self._say(self.cfg.prompts.transfer)

    def _start_text_turn(self, text: str) -> None:
        """A turn whose words came from the keypad ("yes", a code): the pipeline as if transcribed."""
        if self._turn is not None and not self._turn.done():
            return  # one turn at a time; the caller can press again
        t0 = time.perf_counter()
        self._turn = self._spawn(self._run_turn_text(text, t0))

    async def _run_turn_text(self, text: str, t0: float) -> None:
        try:
            self._phase = "pipeline"
            await self._respond(text, t0, {"speech_s": 0.0, "keypad": True})
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._turn_failed(exc, t0)

    async def _keyed(self, entry: Entry) -> None:
        """A finished keypad entry: a one-time code becomes a turn; a customer number asks for the PIN;
        a PIN signs in with the bank (assistant/core/sign_in.py). Digits are never logged or stored."""
        await self._interrupt("dtmf")
        if entry.mode == "code":
            self._start_text_turn(entry.digits)
        elif entry.mode == "number":
            self._customer_number = entry.digits
            self._say(PROMPTS["pin"])
        elif self.services.keypad is None or not self.conversation_id or not self._customer_number:
            self._keypad.cancel()
        else:
            number, self._customer_number = self._customer_number, None
            try:
                result = await self.services.keypad.sign_in(self.conversation_id, number, entry.digits, self.cfg.channel)
            except Exception as exc:  # the store failed: an apology, as for a failed turn
                await self._turn_failed(exc, time.perf_counter())
                return
            await self.out.notify({"type": "sign_in", "status": result.status})
            if result.reply is not None:
                prompt = self._keypad.expect(result.reply.flow.awaiting if result.reply.flow else None, sign_in=True)
                self._say(" ".join(filter(None, [result.reply.text, prompt])))
            elif result.status == "rejected":
                self._say(" ".join(filter(None, [result.text, self._keypad.expect("identity", sign_in=True)])))
            else:
                self._keypad.cancel()
                self._say(result.text)

    async def _rated(self, score: int) -> None:
        """A keypad rating after the goodbye: stored once (a second key press is ignored), thanks, hang up."""
        self._survey = False
        await self._interrupt("dtmf")
        csat = self.services.csat
        if csat is not None and self.conversation_id:
            try:
                await asyncio.to_thread(csat.record, self.conversation_id, score)
            except Exception as exc:  # already rated, or the store failed: the caller still hears thanks
                log.warning("keypad rating not stored: %s", type(exc).__name__)
        await self.out.notify({"type": "csat", "score": score})
        self._ending = CallOutcome("hangup", reason="survey")
        self._say(self.cfg.prompts.csat_thanks)

    async def close(self, reason: str = "caller_hangup") -> None:
        """The caller hung up or the socket died: keep what was said, stop speaking."""
        if self._closed:
            return
        self._closed = True
        if self.speaking:
            await self._record_heard("hangup")
        if self._utt is not None:
            self._utt.task.cancel()
        rest = self.detector.flush()
        for task in (self._turn, self._partial):
            if task is not None and not task.done():
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(task), self.cfg.close_timeout_s)
        if rest is not None and self.conversation_id:
            await self._store_unanswered(rest.audio)
        for task in list(self._tasks):
            task.cancel()
        log.info("voice call %s closed (%s) after %d turns", self.conversation_id, reason, len(self.turn_metrics))

    # --- state

    @property
    def speaking(self) -> bool:
        return bool(self._marks) or (self._utt is not None and not self._utt.done)

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _say(self, text: str, t0: float | None = None) -> Utterance:
        self._heard = []
        self._utt = Utterance(self, t0)
        for sentence in split_sentences(text):
            self._utt.add(sentence)
        self._utt.finish()
        self._last_activity_s = self.detector.position_s
        return self._utt

    # --- turn-taking

    async def _speech_started(self) -> None:
        self._last_activity_s = self.detector.position_s
        self._reprompts = 0
        await self.out.notify({"type": "speech_started"})
        if self._turn is not None and not self._turn.done() and self._phase == "asr":
            self._turn.cancel()  # the caller kept talking after a pause: one turn, not two
            self._carry = self._turn_audio
        elif self.speaking or (self._turn is not None and not self._turn.done()):
            await self._interrupt("barge_in")

    def _early_transcribe(self, ev: Pause) -> None:
        """Start Whisper at the first pause; if the turn ends without more speech the text is ready."""
        if self._carry is None and (self._turn is None or self._turn.done()):
            self._early = (ev.speech_s, self._spawn(asyncio.to_thread(self.stack.asr.transcribe, ev.audio)))

    def _turn_ended(self, ev: TurnEnded) -> None:
        self._survey = False  # the caller speaks again: the conversation goes on
        audio = ev.audio if self._carry is None else np.concatenate([self._carry, ev.audio])
        early = self._early[1] if self._early is not None and self._early[0] == ev.speech_s and self._carry is None else None
        self._carry, self._early = None, None
        self._last_activity_s = self.detector.position_s
        self._turn_audio = audio
        self._turn = self._spawn(self._run_turn(audio, time.perf_counter(), early))

    async def _interrupt(self, why: str) -> None:
        """Stop talking now: clear the peer's buffer, cancel synthesis and an unfinished reply."""
        was_speaking = self.speaking
        if self._utt is not None:
            self._utt.task.cancel()
        if was_speaking:
            await self.out.clear()
        turn = self._turn
        pipeline_open = turn is not None and not turn.done() and self._phase == "pipeline"
        if turn is not None and pipeline_open:
            turn.cancel()
        if was_speaking or pipeline_open:
            await self._record_heard(why, reply_stored=not pipeline_open)
        self._marks.clear()
        self._utt = None

    async def _record_heard(self, why: str, reply_stored: bool = True) -> None:
        heard = " ".join(self._heard)
        await self.out.notify({"type": "barge_in" if why == "barge_in" else "interrupted", "heard": heard})
        if not self.conversation_id:
            return
        if not reply_stored and heard:
            await asyncio.to_thread(self.services.conversations.add, self.conversation_id, role="assistant",
                                    text=heard, channel=self.cfg.channel, path="interrupted")
        else:
            await self._note(f"Caller interrupted ({why}); heard: {heard or 'nothing'}", "barge_in")

    async def _note(self, text: str, path: str) -> None:
        if self.conversation_id:
            await asyncio.to_thread(self.services.conversations.add, self.conversation_id, role="system",
                                    text=text, channel=self.cfg.channel, path=path)

    async def _run_turn(self, audio: np.ndarray, t0: float, early: asyncio.Task | None = None) -> None:
        """One caller turn. A failure anywhere in it (ASR, the pipeline, storage) becomes an apology
        the caller hears, an error event and a stored note; the call goes on."""
        try:
            await self._answer(audio, t0, early)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._turn_failed(exc, t0)

    async def _turn_failed(self, exc: Exception, t0: float) -> None:
        frame = traceback.extract_tb(exc.__traceback__)[-1]  # type and place only: the message may quote the caller
        log.error("voice turn failed: %s at %s:%s", type(exc).__name__, frame.filename, frame.lineno)
        self._phase = "done"
        if self._utt is not None and not self._utt.done:
            self._utt.task.cancel()  # what was already sent plays out; the rest of the reply is dropped
        await self.out.notify({"type": "error", "detail": "this turn failed; please say it again"})
        try:
            await self._note(f"The assistant failed to answer this turn ({type(exc).__name__}).", "turn_error")
        except Exception:  # the store may be what failed; the apology still plays
            log.error("voice turn failure could not be noted")
        self._say(self.cfg.prompts.apology, t0)

    async def _answer(self, audio: np.ndarray, t0: float, early: asyncio.Task | None) -> None:
        self._phase = "asr"
        metric: dict = {"speech_s": round(len(audio) / 16000, 2), "early_asr": early is not None}
        tr = await early if early is not None else await asyncio.to_thread(self.stack.asr.transcribe, audio)
        metric["asr_s"] = tr.processing_s
        await self.out.notify({"type": "transcript", "text": tr.text, "language": tr.language,
                               "duration_s": tr.duration_s, "processing_s": tr.processing_s})
        if not tr.text.strip():  # an empty transcript is a clarifying question, not a turn
            self._phase = "done"
            self._say(self.cfg.prompts.not_heard, t0)
            return
        self._phase = "pipeline"
        await self._respond(tr.text, t0, metric)

    async def _respond(self, text: str, t0: float, metric: dict) -> None:
        """The pipeline's reply to one caller turn, spoken sentence by sentence as it streams."""
        utt = self._utt = Utterance(self, t0)
        self._heard = []
        chunker, streamed, final = SentenceChunker(), "", None
        try:
            async for ev in self.services.pipeline.run(UserTurn(text, self.cfg.channel, self.conversation_id)):
                if isinstance(ev, ReplyDelta):
                    streamed += ev.text
                    for sentence in chunker.feed(ev.text):
                        utt.add(sentence)
                elif isinstance(ev, Reply):
                    final = ev
        except Limited:  # turns per conversation (assistant/throttle.py): said, not a silent failure
            for sentence in split_sentences(self.cfg.prompts.slow_down):
                utt.add(sentence)
            utt.finish()
            self._phase = "done"
            return
        self._phase = "done"
        if final is None:
            return
        if not " ".join(final.text.split()).startswith(" ".join(streamed.split())):
            utt.drop_pending()  # the guard replaced the streamed answer: its unsaid sentences go
        for sentence in unspoken_remainder(final.text, utt.sent):
            utt.add(sentence)
        prompt = self._keypad.expect(final.flow.awaiting if final.flow else None,
                                     sign_in=self.services.keypad is not None) if self.cfg.keypad else None
        survey = asks_survey(final)
        self._survey = survey and self.cfg.csat
        for sentence in split_sentences(prompt or "") if not self._survey else ():
            utt.add(sentence)
        for sentence in split_sentences(self.cfg.prompts.csat_ask) if self._survey else ():
            utt.add(sentence)
        utt.finish()
        metric.update(path=final.path, pipeline_ms=final.latency_ms)
        await self.out.notify({"type": "reply", "text": final.text, "path": final.path,
                               "citations": [c.doc_id for c in final.citations], "survey": survey})
        if final.handoff is not None and final.handoff.active and final.path != "human":
            self._ending = CallOutcome("transfer", await self._open_ticket(), final.handoff.reason)
        await asyncio.shield(utt.task)
        metric["first_audio_s"] = utt.first_audio_s
        self.turn_metrics.append(metric)
        log.info("voice turn: %s", metric)

    def _maybe_partial(self) -> None:
        if not self.cfg.partials or not self.detector.in_turn:
            return
        if self._partial is not None and not self._partial.done():
            return
        if self.detector.position_s - self._last_partial_s < self.cfg.partial_every_s:
            return
        audio = self.detector.current_audio()
        if audio is not None:
            self._last_partial_s = self.detector.position_s

            async def partial() -> None:
                tr = await asyncio.to_thread(self.stack.asr.transcribe, audio)
                if tr.text and self.detector.in_turn:
                    await self.out.notify({"type": "partial", "text": tr.text})

            self._partial = self._spawn(partial())

    async def _check_silence(self) -> None:
        busy = self.speaking or self.detector.in_turn or (self._turn is not None and not self._turn.done())
        if busy or self._ending is not None or self._closed:
            return
        if self.detector.position_s - self._last_activity_s < self.cfg.silence_reprompt_s:
            return
        if self._survey:  # no key pressed after the goodbye: end the call without a rating
            self._survey = False
            self._ending = CallOutcome("hangup", reason="survey_timeout")
            self._say(self.cfg.prompts.csat_timeout)
            return
        self._reprompts += 1
        if self._reprompts > self.cfg.max_reprompts:
            self._ending = CallOutcome("hangup", reason="silence")
            await self._note("Call ended after repeated silence.", "silence")
            self._say(self.cfg.prompts.goodbye)
        else:
            self._say(self.cfg.prompts.reprompt)

    async def _end(self, outcome: CallOutcome) -> None:
        if not self._closed:
            await self.out.end(outcome)

    # --- handoff and storage

    async def _request_handoff(self, reason: str) -> int | None:
        handoff = self.services.handoff
        if handoff is None or self.conversation_id is None:
            return None
        try:
            started = await handoff.request(self.conversation_id, reason=reason, channel="voice")
            return started.ticket_id
        except Exception:  # the transfer still happens; the agent just gets no ticket
            log.exception("handoff request failed")
            return None

    async def _open_ticket(self) -> int | None:
        tickets = self.services.tickets
        if tickets is None or self.conversation_id is None:
            return None
        ticket = await asyncio.to_thread(tickets.open_for, self.conversation_id)
        return ticket.id if ticket is not None else None

    async def _store_unanswered(self, audio: np.ndarray) -> None:
        """Speech cut off by a hang-up: transcribed and stored (redacted), not answered."""
        cid = self.conversation_id
        if cid is None:  # the call never started
            return
        try:
            tr = await asyncio.to_thread(self.stack.asr.transcribe, audio)
        except Exception:
            log.exception("transcribing the last words of a call failed")
            return
        if tr.text.strip():
            red = redact(tr.text)
            await asyncio.to_thread(self.services.conversations.add, cid, role="user", text=red.text,
                                    channel=self.cfg.channel, pii=red.found or None)
