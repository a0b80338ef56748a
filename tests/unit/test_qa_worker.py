"""The background scorer on a real SQLite database: which conversations count as closed, a batch
scores them with evidence, new messages bring a conversation back, a reviewed score is kept."""

import asyncio
from datetime import timedelta

import pytest

from assistant.qa.deciders import Tools
from assistant.qa.scorer import Scorer, load_default
from assistant.qa.service import QaService, QaSettings
from assistant.qa.store import QaRepository, Verdict
from assistant.storage.db import make_engine, migrate, session_factory
from assistant.storage.models import Conversation, Message, utcnow


@pytest.fixture
def qa(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'qa.db'}")
    migrate(engine)
    repo = QaRepository(session_factory(engine))
    return QaService(repo, Scorer(load_default(), Tools()), QaSettings(idle_minutes=30, interval_s=0.05, random_rate=0.0))


def conversation(qa, cid: str, *, status: str = "bot", minutes_ago: float = 60, lines=(("user", "hi"),)) -> None:
    at = utcnow() - timedelta(minutes=minutes_ago)
    with qa.repo.sessions.begin() as s:
        s.add(Conversation(id=cid, channel="web", status=status, created_at=at))
        for i, (role, text) in enumerate(lines):
            s.add(Message(conversation_id=cid, role=role, text=text, channel="web", created_at=at + timedelta(seconds=i),
                          path="faq" if role == "assistant" else None))


def test_only_idle_conversations_the_bot_holds_are_scored(qa):
    conversation(qa, "idle", lines=(("user", "fees?"), ("assistant", "The fee is $10.")))
    conversation(qa, "recent", minutes_ago=1, lines=(("user", "fees?"), ("assistant", "The fee is $10.")))
    conversation(qa, "waiting", status="waiting", lines=(("user", "agent please"), ("assistant", "Connecting you.")))
    assert qa.score_pending() == 1
    [row] = qa.repo.queue() or [None]  # random_rate 0: queued only for risk; an uncited answer scores low
    detail = qa.repo.detail(row["id"]) if row else None
    assert detail is not None and detail["conversation_id"] == "idle"
    cited = next(i for i in detail["items"] if i["item_id"] == "cited_sources")
    assert cited["result"] == "fail" and cited["message_id"] == detail["messages"][1]["id"]
    assert qa.score_pending() == 0  # nothing new


def test_new_messages_bring_a_conversation_back_unless_reviewed(qa):
    conversation(qa, "c", lines=(("user", "fees?"), ("assistant", "The fee is $10.")))
    assert qa.score_pending() == 1
    with qa.repo.sessions.begin() as s:
        s.add(Message(conversation_id="c", role="user", text="thanks", channel="web", created_at=utcnow() - timedelta(hours=1)))
    assert qa.score_pending() == 1  # scored again, replacing the old score
    [row] = qa.repo.queue()
    items = qa.repo.detail(row["id"])["items"]
    qa.repo.review(row["id"], [Verdict(i["id"], i["result"]) for i in items], "rev")
    with qa.repo.sessions.begin() as s:
        s.add(Message(conversation_id="c", role="user", text="one more", channel="web", created_at=utcnow() - timedelta(hours=1)))
    qa.score_pending()
    assert qa.repo.detail(row["id"])["reviewed_at"] is not None  # a reviewed score is never replaced


def test_the_worker_loop_scores_in_the_background(qa):
    conversation(qa, "bg", lines=(("user", "fees?"), ("assistant", "The fee is $10.")))

    async def run() -> None:
        task = asyncio.create_task(qa.run_forever())
        for _ in range(100):
            await asyncio.sleep(0.05)
            if qa.repo.queue():
                break
        task.cancel()

    asyncio.run(run())
    assert [r["conversation_id"] for r in qa.repo.queue()] == ["bg"]
