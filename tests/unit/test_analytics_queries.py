"""Every dashboard figure on a small stored history (tests/analytics_seed.py) with the exact numbers,
on SQLite and on the PostgreSQL server; and the conversations behind cells."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest

from assistant.analytics import Analytics, Filters
from assistant.analytics.messages import intents_rising
from assistant.storage.db import make_engine, migrate, session_factory
from tests.analytics_seed import seed
from tests.unit.test_storage import pg_engine

MARCH = Filters.between(date(2026, 3, 1), date(2026, 3, 14))


@contextmanager
def sqlite_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def seeded(request, tmp_path):
    with (sqlite_engine(tmp_path) if request.param == "sqlite" else pg_engine()) as engine:
        ids = seed(engine)
        yield Analytics(session_factory(engine)), ids


def table(a: Analytics, figure: str, f: Filters = MARCH) -> dict:
    t = a.figure(figure, f).to_json()
    return {"rows": t["rows"], "keys": t["keys"], "columns": [c["name"] for c in t["columns"]]}


def behind(a: Analytics, ids: dict, figure: str, key: str, column: str, f: Filters = MARCH) -> set[str]:
    names = {v: k for k, v in ids.items()}
    return {names[c] for c in a.drill(figure, f, key, column).conversation_ids}


def test_containment_handoffs_and_channels(seeded):
    a, ids = seeded
    assert table(a, "overview")["rows"] == [["Conversations", 6], ["Contained (no person)", 4],
                                            ["Containment rate", 0.6667], ["Handed off", 2], ["Hand-off rate", 0.3333]]
    assert table(a, "channels")["rows"] == [["robot", 1, 1, 1.0, 0, 0.0], ["voice", 1, 1, 1.0, 0, 0.0],
                                            ["web", 4, 2, 0.5, 2, 0.5]]  # the silent call (c7) is no conversation
    assert table(a, "handoff_reasons")["rows"] == [["complaint with negative sentiment", 1, 0.1667],
                                                   ["explicit request for a human", 1, 0.1667]]
    assert behind(a, ids, "overview", "contained", "value") == {"c1", "c3", "c4", "c5"}
    assert behind(a, ids, "overview", "handed_off", "value") == {"c2", "c6"}
    assert behind(a, ids, "channels", "web", "contained") == {"c1", "c5"}
    assert behind(a, ids, "handoff_reasons", "complaint with negative sentiment", "tickets") == {"c6"}


def test_per_day_and_per_week(seeded):
    a, ids = seeded
    days = table(a, "series")
    assert days["columns"] == ["bucket", "conversations", "contained", "handed_off", "containment", "robot", "voice", "web"]
    assert days["rows"] == [["2026-03-02", 2, 1, 1, 0.5, 0, 0, 2], ["2026-03-03", 2, 2, 0, 1.0, 1, 1, 0],
                            ["2026-03-09", 2, 1, 1, 0.5, 0, 0, 2]]
    weeks = table(a, "series", Filters.between(date(2026, 3, 1), date(2026, 3, 14), granularity="week"))
    assert [r[:4] for r in weeks["rows"]] == [["2026-03-02", 4, 3, 1], ["2026-03-09", 2, 1, 1]]
    assert behind(a, ids, "series", "2026-03-03", "robot") == {"c4"}
    week = Filters.between(date(2026, 3, 1), date(2026, 3, 14), granularity="week")
    assert behind(a, ids, "series", "2026-03-02", "handed_off", week) == {"c2"}


def test_filters_channel_and_intent(seeded):
    a, _ = seeded
    web = Filters.between(date(2026, 3, 1), date(2026, 3, 14), channel="web")
    assert table(a, "overview", web)["rows"][:2] == [["Conversations", 4], ["Contained (no person)", 2]]
    crypto = Filters.between(date(2026, 3, 1), date(2026, 3, 14), intent="crypto")
    assert table(a, "overview", crypto)["rows"][:2] == [["Conversations", 1], ["Contained (no person)", 1]]
    assert table(a, "routes", crypto)["rows"] == [["Clarifying question", 1, 0.5], ["No answer", 1, 0.5]]
    before = Filters.between(date(2026, 2, 15), date(2026, 2, 28))
    assert table(a, "overview", before)["rows"][0] == ["Conversations", 1]


def test_routes_and_intents(seeded):
    a, ids = seeded
    routes = table(a, "routes")
    assert dict(zip(routes["keys"], [r[1] for r in routes["rows"]], strict=True)) == {
        "flow": 4, "handoff": 2, "faq": 1, "generated": 1, "clarify": 1, "no_answer": 1}
    assert routes["rows"][0] == ["Self-service flow", 4, 0.4]
    top = table(a, "intents_top")
    assert top["rows"][:2] == [["crypto", 2, 0.2222], ["transfer", 2, 0.2222]]
    assert sum(r[1] for r in top["rows"]) == 9  # ten questions; "yes" had no intent
    assert behind(a, ids, "routes", "no_answer", "replies") == {"c3"}
    assert behind(a, ids, "intents_top", "transfer", "questions") == {"c4"}
    assert table(a, "intents_rising")["rows"] == []  # nothing reaches 3 questions
    with a._engine.connect() as c:
        rising = intents_rising(c, MARCH, min_count=2).to_json()
    assert rising["rows"] == [["crypto", 2, 0, 2, None], ["transfer", 2, 0, 2, None]]
    assert behind(a, ids, "intents_rising", "fees", "previous") == {"c8"}


def test_unanswered_and_low_confidence(seeded):
    a, ids = seeded
    summary = table(a, "unanswered_summary")["rows"]
    assert summary == [["Replies", 10], ["No answer", 1], ["Clarifying question", 1], ["Low confidence (under 0.45)", 2],
                       ["Unanswered or low confidence", 2], ["Share of replies", 0.2]]
    latest = table(a, "unanswered")
    assert [r[1:5] for r in latest["rows"]] == [["how to buy bitcoin", "No answer", "crypto", 0.2],
                                                 ["blah mortgage crypto", "Clarifying question", "crypto", 0.3]]
    assert latest["keys"] == [ids["c3"], ids["c3"]]
    assert behind(a, ids, "unanswered_summary", "low_confidence", "value") == {"c3"}


def test_flows_feedback_csat_and_agents(seeded):
    a, ids = seeded
    assert table(a, "flows")["rows"] == [["freeze_card", 1, 0, 0, 0, 0, 1, 0.0], ["transfer", 1, 1, 0, 0, 0, 0, 1.0]]
    assert behind(a, ids, "flows", "freeze_card", "abandoned") == {"c5"}
    assert behind(a, ids, "flows", "transfer", "completed") == {"c4"}
    assert behind(a, ids, "flows", "transfer", "abandoned") == set()  # its start was completed on the same turn
    assert table(a, "thumbs_down_docs")["rows"] == [["cards-lost", "Lost cards", 1, 0, 1.0]]
    assert behind(a, ids, "thumbs_down_docs", "cards-lost", "thumbs_down") == {"c2"}
    assert behind(a, ids, "thumbs_down_docs", "fees-checking", "thumbs_up") == {"c1"}
    csat = a.figure("csat", MARCH)
    assert csat.rows == [[1, 0, 0.0], [2, 1, 0.5], [3, 0, 0.0], [4, 0, 0.0], [5, 1, 0.5]]
    assert csat.note == "2 responses, mean 3.5, satisfied (4-5) 0.5"
    assert table(a, "csat_channels")["rows"] == [["web", 2, 3.5, 0.5]]
    assert behind(a, ids, "csat", "2", "responses") == {"c2"}
    agents = table(a, "agents")
    assert agents["rows"] == [["Ana Lyst", 1, 1, 0, 120.0, 120.0, 360.0, 360.0],
                              ["All (incl. unclaimed)", 2, 1, 1, 120.0, 120.0, 360.0, 360.0]]
    assert behind(a, ids, "agents", ids["agent"], "tickets") == {"c2"}
    assert behind(a, ids, "agents", "all", "abandoned") == {"c6"}
    assert table(a, "queue")["rows"] == [["2026-03-02", 1, 1, 0, 120.0, 120.0, 360.0, 360.0],
                                         ["2026-03-09", 1, 0, 1, None, None, None, None]]


def test_transcripts_csv_and_unknown_cells(seeded):
    a, ids = seeded
    convs = a.transcripts([ids["c2"], "nope", ids["c1"]])
    assert [c["id"] for c in convs] == [ids["c2"], ids["c1"]]
    assert [m["role"] for m in convs[0]["messages"]] == ["user", "assistant", "user", "assistant"]
    assert convs[0]["csat"] == {"score": 2, "comment": "too slow, my card [CARD]"}
    assert convs[0]["tickets"][0]["reason"] == "explicit request for a human"
    assert convs[0]["messages"][1]["sources"] == ["cards-lost"] and convs[0]["messages"][1]["feedback"] == -1
    csv = a.figure("handoff_reasons", MARCH).to_csv().splitlines()
    assert csv == ["Reason,Hand-offs,Share of conversations", "complaint with negative sentiment,1,0.1667",
                   "explicit request for a human,1,0.1667"]
    for figure, key, column in (("nope", "x", "y"), ("overview", "bogus", "value"), ("csat", "x", "responses"),
                                ("agents", "x", "tickets"), ("flows", "transfer", "bogus")):
        with pytest.raises(LookupError):
            a.drill(figure, MARCH, key, column)
    with pytest.raises(LookupError):
        a.figure("nope", MARCH)
