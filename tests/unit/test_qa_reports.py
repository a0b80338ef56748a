"""QA reports on a real SQLite database: grouping by agent, team and week, trends, worst items,
reviewers' verdicts winning over the scorer's, CSV cells that cannot run as formulas, and PDF."""

from datetime import UTC, datetime, timedelta

import pytest

from assistant.qa import reports
from assistant.qa.deciders.base import Outcome
from assistant.qa.scorer import ConversationScore, ItemScore
from assistant.qa.store import QaRepository, Verdict, list_scores
from assistant.qa.transcript import QaMessage, QaTicket, Transcript
from assistant.storage.db import make_engine, migrate, session_factory
from assistant.storage.models import Agent, Conversation

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)


@pytest.fixture
def repo(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'qa.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        s.add_all([Agent(id=1, username="=rita", display_name="Rita", password_hash="x"),
                   Agent(id=2, username="sam", display_name="Sam", password_hash="x")])
    return QaRepository(sessions)


def add(repo, cid: str, agent_id: int | None, days_ago: int, results: dict[str, str]) -> int:
    at = NOW - timedelta(days=days_ago)
    with repo.sessions.begin() as s:
        s.add(Conversation(id=cid, channel="web", status="bot", created_at=at))
    t = Transcript(conversation_id=cid, messages=[QaMessage(id=1, role="agent", part="agent", text="hi", at=at)],
                   tickets=[QaTicket(id=1, reason="asked", status="closed", agent_id=agent_id,
                                     agent={1: "=rita", 2: "sam"}.get(agent_id))] if agent_id else [])
    items = [ItemScore(k, "agent", Outcome(v, 1, 0, 2), 10, k == "no_secret_request", "rule") for k, v in results.items()]
    return repo.save(t, ConversationScore(cid, "default-v1", items), ["random"])


def test_reports_by_agent_team_and_week_with_worst_items(repo):
    repo.set_team("sam", "Cards")
    add(repo, "c1", 2, 1, {"greeting": "pass", "no_secret_request": "fail"})
    add(repo, "c2", 2, 8, {"greeting": "pass", "no_secret_request": "pass"})
    add(repo, "c3", 1, 2, {"greeting": "fail", "no_secret_request": "pass"})
    add(repo, "c4", None, 3, {"greeting": "na", "no_secret_request": "pass"})
    by_agent = {r["key"]: r for r in reports.report(repo.sessions, "agent", now=NOW)}
    assert set(by_agent) == {"sam", "=rita", reports.BOT}
    sam = by_agent["sam"]
    assert sam["conversations"] == 2 and sam["mean_score"] == 75.0 and sam["critical_fails"] == 1
    assert [t["week"] for t in sam["trend"]] == ["2026-W11", "2026-W12"]
    assert sam["worst_items"] == [{"item_id": "no_secret_request", "fail_rate": 0.5, "fails": 1}]
    teams = {r["key"] for r in reports.report(repo.sessions, "team", now=NOW)}
    assert teams == {"Cards", "no team", "bot"}
    weeks = {r["key"]: r["conversations"] for r in reports.report(repo.sessions, "week", now=NOW)}
    assert sum(weeks.values()) == 4
    # a number leads to its conversations
    assert [r["conversation_id"] for r in list_scores(repo.sessions, agent="sam", item_id="no_secret_request", result="fail")] == ["c1"]
    assert [r["conversation_id"] for r in list_scores(repo.sessions, agent=reports.BOT)] == ["c4"]
    assert {r["conversation_id"] for r in list_scores(repo.sessions, week="2026-W12")} == {"c1", "c3"}  # Mon 16 - Sun 22 March


def test_a_reviewers_override_changes_agreement_and_the_report(repo):
    sid = add(repo, "c1", 2, 1, {"greeting": "pass", "no_secret_request": "fail"})
    detail = repo.detail(sid)
    secret = next(i for i in detail["items"] if i["item_id"] == "no_secret_request")
    greet = next(i for i in detail["items"] if i["item_id"] == "greeting")
    repo.review(sid, [Verdict(secret["id"], "pass"), Verdict(greet["id"], "pass")], "rev")
    agreement = repo.agreement()
    assert (agreement["reviewed"], agreement["agreed"], agreement["rate"]) == (2, 1, 0.5)
    assert repo.detail(sid)["reviewed_at"] is not None and repo.queue() == []
    sam = next(r for r in reports.report(repo.sessions, "agent", now=NOW) if r["key"] == "sam")
    assert sam["critical_fails"] == 0 and sam["worst_items"] == []  # the reviewer's verdict wins


def test_csv_cells_cannot_start_a_formula_and_the_pdf_renders(repo):
    add(repo, "c1", 1, 1, {"greeting": "fail"})
    rows = reports.report(repo.sessions, "agent", now=NOW)
    text = reports.to_csv(rows)
    assert text.splitlines()[0].startswith("group,key,conversations") and ",'=rita," in text
    pytest.importorskip("fpdf")
    pdf = reports.to_pdf(rows, title="Quality report")
    assert pdf.startswith(b"%PDF") and len(pdf) > 800
