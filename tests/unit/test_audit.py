from datetime import timedelta

import pytest
from sqlalchemy import text

from assistant.audit import AuditLog
from assistant.storage.db import make_engine, migrate, session_factory


@pytest.fixture
def audit(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    migrate(engine)
    log = AuditLog(session_factory(engine))
    for i in range(5):
        log.append("turn", {"input": f"question {i}", "reply": "answer"}, "c1")
    return log, engine


def test_chain_verifies(audit):
    log, _ = audit
    assert log.verify().ok and log.verify().checked == 5


@pytest.mark.parametrize("sql,problem", [
    ("UPDATE audit_records SET payload = '{\"input\": \"edited\", \"reply\": \"answer\"}' WHERE id = 3", "record 3 was altered"),
    ("DELETE FROM audit_records WHERE id = 2", "record 2 is missing"),
    ("UPDATE audit_records SET kind = 'agent_action' WHERE id = 4", "record 4 was altered"),
])
def test_any_edit_or_deletion_is_detected(audit, sql, problem):
    log, engine = audit
    with engine.begin() as c:
        c.execute(text(sql))
    result = log.verify()
    assert not result.ok and problem in result.problem


def test_purge_keeps_the_rest_verifiable(audit):
    log, _ = audit
    assert log.purge(timedelta(days=-1)) == 5  # a cutoff in the future: every record is past retention
    result = log.verify()
    assert result.ok and result.checked == 1  # the purge record itself, chained to the purged head
    log.append("turn", {"input": "new"}, "c2")
    assert log.verify().ok and log.verify().checked == 2
    assert log.purge(timedelta(days=30)) == 0
