"""Knowledge gaps: which questions count, clustering into named gaps, incremental placement, stable ids.

Vectors come from the bag-of-words encoder of tests/fakes.py (exact, so the clusters are known); the API
test in tests/integration/test_analytics_api.py runs the real MiniLM."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import update

from assistant.analytics.gaps import GapConfig, KnowledgeGaps
from assistant.storage.db import make_engine, migrate, session_factory
from assistant.storage.models import Message, utcnow
from assistant.storage.repository import ConversationRepository
from tests.fakes import bag

WIRE = ["what is the wire routing number", "routing number for a wire", "wire routing code please"]
LASAGNA = ["lasagna hours", "when are the lasagna hours", "lasagna hours today?"]
APY = ["savings apy rate", "apy rate on savings", "what apy rate for my savings"]


def embed(texts: list[str]) -> np.ndarray:
    return np.stack([bag(t) for t in texts])


@pytest.fixture
def store(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    repo = ConversationRepository(sessions)
    yield repo, KnowledgeGaps(sessions, embed, GapConfig(min_size=3)), engine
    repo.close()
    engine.dispose()


def ask(repo, question: str, path: str, intent: str = "other") -> tuple[str, int]:
    """A conversation with one question and the reply's route; returns (conversation id, reply id)."""
    cid = repo.create("web")
    repo.add(cid, role="user", text=question, channel="web", intent=intent, intent_confidence=0.4)
    return cid, repo.add(cid, role="assistant", text="...", channel="web", path=path, intent=intent)


def test_unserved_questions_become_named_gaps_and_requests_for_a_person_do_not(store):
    repo, gaps, _ = store
    convs = {}
    for texts, path in ((WIRE, "no_answer"), (LASAGNA, "clarify"), (APY, "handoff")):
        for t in texts:
            convs[t] = ask(repo, t, path)[0]
    ask(repo, "can I talk to a person", "handoff", intent="human_agent")  # a request, not a question
    ask(repo, "hello", "clarify", intent="greeting")
    ask(repo, "what is the monthly fee", "faq")  # answered
    done = gaps.refresh()
    assert (done.added, done.reclustered, done.gaps) == (9, True, 3)
    found = {g.name: g for g in gaps.list()}
    assert len(found) == 3 and all(g.count == 3 for g in found.values())
    wire = next(g for n, g in found.items() if "routing" in n)
    assert set(wire.examples) == set(WIRE) and set(wire.conversation_ids) == {convs[t] for t in WIRE}
    assert any("lasagna" in n for n in found) and any("apy" in n for n in found)
    assert wire.to_json().keys() == {"id", "name", "count", "examples", "conversation_ids"}


def test_new_questions_join_their_gap_and_ids_stay_across_a_full_reclustering(store):
    repo, gaps, _ = store
    for t in WIRE + LASAGNA:
        ask(repo, t, "no_answer")
    gaps.refresh()
    before = {g.id: g for g in gaps.list()}
    cid, _ = ask(repo, "wire routing for international", "no_answer")
    done = gaps.refresh()
    assert (done.added, done.assigned, done.reclustered) == (1, 1, False)
    after = {g.id: g for g in gaps.list()}
    assert after.keys() == before.keys()
    wire_id = next(i for i, g in after.items() if "routing" in g.name)
    assert after[wire_id].count == 4 and cid in after[wire_id].conversation_ids
    assert gaps.refresh(full=True).reclustered
    assert {g.id: g.count for g in gaps.list()} == {g.id: g.count for g in after.values()}


def test_a_thumbs_down_on_an_answered_question_is_read_later(store):
    repo, gaps, engine = store
    replies = [ask(repo, t, "faq") for t in APY]
    assert gaps.refresh().added == 0
    with engine.begin() as c:  # the customers rate the answers down after the scan
        c.execute(update(Message.__table__).where(Message.__table__.c.id.in_([r for _, r in replies])).values(feedback=-1))
    done = gaps.refresh()
    assert (done.added, done.gaps) == (3, 1)
    assert gaps.refresh().added == 0  # read once


def test_a_waiting_pile_triggers_a_recluster_and_old_questions_leave_the_window(store):
    repo, gaps, engine = store
    for t in WIRE:
        ask(repo, t, "no_answer")
    gaps.refresh()
    for t in LASAGNA:  # no gap near: they wait; 3 waiting < 20, the last full run is recent
        ask(repo, t, "no_answer")
    done = gaps.refresh()
    assert (done.added, done.assigned, done.reclustered, done.gaps) == (3, 0, False, 1)
    from assistant.storage.analytics_tables import GapQuestion

    with engine.begin() as c:  # the wire questions age out of the 90-day window
        c.execute(update(GapQuestion.__table__).where(GapQuestion.__table__.c.text.in_(WIRE))
                  .values(asked_at=utcnow() - timedelta(days=120)))
    assert gaps.refresh(full=True).gaps == 1
    assert [g.examples for g in gaps.list()][0][0] in LASAGNA
