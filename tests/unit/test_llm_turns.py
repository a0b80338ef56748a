"""One decode at a time on a model, whichever event loop asks, and none left running on a freed model."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from assistant.llm.base import GenerationError, ModelTurns, relay


class _Model:
    """Stands in for a llama.cpp context: records how many decodes overlap."""

    def __init__(self) -> None:
        self.active = self.most = 0
        self._count = threading.Lock()

    def pieces(self, n: int = 6):
        with self._count:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            for i in range(n):
                time.sleep(0.02)  # a token's decode
                yield f"t{i} "
        finally:
            with self._count:
                self.active -= 1


async def _stream(model: _Model, turns: ModelTurns | None) -> str:
    out = []
    async for piece in relay(model.pieces(), timeout_s=5, stop=threading.Event(), hold=turns.model_lock if turns else None):
        out.append(piece)
    return "".join(out)


def _two_loops(model: _Model, turns: ModelTurns | None) -> list[str]:
    """Two servers in one process: each thread runs its own event loop against the same model."""
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(asyncio.run(_stream(model, turns)))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_decodes_of_two_event_loops_never_overlap_on_one_model():
    model = _Model()
    results = _two_loops(model, ModelTurns(queue_timeout_s=4))
    assert results == ["t0 t1 t2 t3 t4 t5 "] * 2
    assert model.most == 1


def test_without_the_model_lock_the_two_loops_do_overlap():
    """The check above can fail: per-loop queueing alone lets two decodes run at once."""
    model = _Model()
    _two_loops(model, None)
    assert model.most == 2


def test_a_stream_abandoned_by_a_closed_loop_stops_and_frees_the_model():
    model, turns = _Model(), ModelTurns(queue_timeout_s=4)

    async def abandon() -> None:
        agen = relay(model.pieces(n=1000), timeout_s=60, stop=threading.Event(), hold=turns.model_lock)
        await agen.__anext__()  # one piece, then the loop closes without closing the stream

    loop = asyncio.new_event_loop()
    loop.run_until_complete(abandon())
    loop.close()
    assert turns.model_lock.acquire(timeout=2), "the orphaned decode still holds the model"
    turns.model_lock.release()
    assert model.active == 0


def test_a_turn_waits_no_longer_than_the_queue_timeout():
    turns = ModelTurns(queue_timeout_s=0.05)

    async def main() -> None:
        async with turns.turn():
            with pytest.raises(GenerationError, match="model busy"):
                async with turns.turn():
                    pass

    asyncio.run(main())
