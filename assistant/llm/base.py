"""The generator role: turn chat messages into a stream of text deltas."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    messages: tuple[ChatMessage, ...]
    max_new_tokens: int = 160
    temperature: float = 0.0


class GenerationError(RuntimeError):
    """The model failed or timed out; the pipeline turns it into an apology, not a 500."""


class Generator(Protocol):
    name: str

    def stream(self, request: GenerationRequest) -> AsyncIterator[str]: ...

    def close(self) -> None:
        """Free the model at shutdown, once no decode runs on it."""
        ...


class ModelTurns:
    """One generation at a time on an in-process model.

    On a small CPU box two concurrent decodes only slow each other. Waiting longer than
    queue_timeout_s for a turn is a GenerationError, so under overload a customer gets the
    quoted passage at once, not a minute's wait. Turns queue on an asyncio lock per event loop;
    the worker thread that touches the model also holds `model_lock` (one per model) while it
    decodes, so a decode that outlived its turn (a stream its loop abandoned) and a turn of
    another event loop (a second server in the same process) never run on one model at once:
    two decodes in one llama.cpp context are not safe, and a segmentation fault in decode from the
    worker thread, seen once in the test suite, is most likely that.
    """

    def __init__(self, queue_timeout_s: float) -> None:
        self.queue_timeout_s = queue_timeout_s
        self.model_lock = threading.Lock()
        self._locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # one asyncio.Lock per event loop

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), self.queue_timeout_s)
        except TimeoutError as exc:
            raise GenerationError(f"model busy: no turn within {self.queue_timeout_s:.0f} s") from exc
        try:
            yield
        finally:
            lock.release()


_DONE = object()


async def relay(pieces: Iterator[str], *, timeout_s: float, stop: threading.Event,
                hold: threading.Lock | None = None) -> AsyncIterator[str]:
    """Yield what a blocking iterator produces in a worker thread, within timeout_s in all.

    A failure in the iterator is a GenerationError. When the consumer stops early (guard,
    disconnect) or the time is up, `stop` is set and the worker is joined before returning, so
    the model is free for the next turn. The worker iterates holding `hold` (the model's lock);
    it stops at the next piece once its event loop is closed.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    failure: list[BaseException] = []

    def pump() -> None:
        with hold or contextlib.nullcontext():
            try:
                for piece in pieces:
                    if stop.is_set() or loop.is_closed():
                        break
                    loop.call_soon_threadsafe(queue.put_nowait, piece)
            except BaseException as exc:  # reported to the consumer, never lost
                failure.append(exc)
            finally:
                close = getattr(pieces, "close", None)
                if close is not None:  # a generator stopped early finishes here, before the model's turn ends
                    close()
        with contextlib.suppress(RuntimeError):  # the consumer's loop is gone: nobody waits for the end
            loop.call_soon_threadsafe(queue.put_nowait, _DONE)

    worker = threading.Thread(target=pump, daemon=True, name="llm-stream")
    worker.start()
    deadline = loop.time() + timeout_s
    try:
        while True:
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise TimeoutError
                item = await asyncio.wait_for(queue.get(), timeout=remaining)
            except TimeoutError as exc:
                raise GenerationError(f"generation exceeded {timeout_s:.0f} s") from exc
            if item is _DONE:
                break
            if item:
                yield item
        if failure:
            raise GenerationError(f"model error: {failure[0]!r}") from failure[0]
    finally:
        stop.set()
        await asyncio.to_thread(worker.join)
