import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from assistant.audit import AuditLog, record_hash
from assistant.audit_anchors import AnchorFile, AuditKeyError, load_key
from assistant.storage.db import make_engine, migrate, session_factory

KEY = b"k" * 16 + b"3f9a0c7e21d84b56"


def open_log(engine, anchors, key=KEY):
    return AuditLog(session_factory(engine), key=key, anchors=AnchorFile(anchors))


@pytest.fixture
def audit(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    migrate(engine)
    log = open_log(engine, tmp_path / "anchors.jsonl")
    for i in range(5):
        log.append("turn", {"input": f"question {i}", "reply": "answer"}, "c1")
    return log, engine


def rows(engine):
    with engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(text("SELECT * FROM audit_records ORDER BY id"))]


def rewrite_with_sha256(engine, from_id: int, payload: dict) -> None:
    """What someone with write access to the database but not the key can do: edit a record and
    recompute every following link with plain sha256, as the unkeyed chain did."""
    from sqlalchemy import select

    from assistant.storage.models import AuditRecord

    with session_factory(engine).begin() as s:
        prev = "0" * 64
        for r in s.scalars(select(AuditRecord).order_by(AuditRecord.id)):
            if r.id >= from_id:
                if r.id == from_id:
                    r.payload = payload
                r.prev_hash = prev
                r.hash = record_hash(prev, r.id, r.created_at, r.kind, r.conversation_id, r.payload)  # no key: sha256
            prev = r.hash


def test_chain_verifies_and_is_keyed(audit):
    log, engine = audit
    result = log.verify()
    assert result.ok and result.checked == 6 and result.legacy == 0  # chain_keyed + 5 records
    first = rows(engine)[0]
    assert first["kind"] == "chain_keyed"
    assert first["hash"] != hashlib.sha256((first["prev_hash"]).encode()).hexdigest()


@pytest.mark.parametrize("sql,problem", [
    ("UPDATE audit_records SET payload = '{\"input\": \"edited\", \"reply\": \"answer\"}' WHERE id = 3", "record 3 was altered"),
    ("DELETE FROM audit_records WHERE id = 2", "record 2 is missing"),
    ("UPDATE audit_records SET kind = 'agent_action' WHERE id = 4", "record 4 was altered"),
    ("DELETE FROM audit_anchor WHERE id = 2", "was altered"),
])
def test_any_edit_or_deletion_is_detected(audit, sql, problem):
    log, engine = audit
    with engine.begin() as c:
        c.execute(text(sql))
    result = log.verify()
    assert not result.ok and problem in result.problem


def test_rewriting_a_record_and_recomputing_sha256_links_is_detected(audit):
    log, engine = audit
    rewrite_with_sha256(engine, 3, {"input": "I never asked that", "reply": "answer"})
    result = log.verify()
    assert not result.ok and "record 3 was altered" in result.problem


def test_relabelling_the_whole_chain_as_unkeyed_is_detected(audit):
    log, engine = audit
    with engine.begin() as c:
        c.execute(text("DELETE FROM audit_anchor WHERE id = 2"))
    rewrite_with_sha256(engine, 1, {"algorithm": "none"})
    result = log.verify()
    assert not result.ok and "not keyed" in result.problem


def test_another_key_does_not_verify(audit, tmp_path):
    _, engine = audit
    result = open_log(engine, tmp_path / "anchors.jsonl", key=b"x" * 40).verify()
    assert not result.ok and "BANK_AUDIT__KEY" in result.problem


def test_anchor_detects_a_chain_cut_short_and_a_rewritten_anchor(audit, tmp_path):
    log, engine = audit
    anchor = log.anchor()
    assert (anchor.record_id, anchor.count) == (6, 6)
    line = json.loads((tmp_path / "anchors.jsonl").read_text())
    assert line["id"] == 6 and line["hash"] == rows(engine)[-1]["hash"] and line["mac"]
    log.append("turn", {"input": "after the anchor"}, "c1")
    assert log.verify().ok and log.verify().anchors == 1
    with engine.begin() as c:  # the newest records removed: the chain still links, but ends before its anchor
        c.execute(text("DELETE FROM audit_records WHERE id >= 5"))
    result = log.verify()
    assert not result.ok and "records 5..6 were removed" in result.problem

    forged = {**line, "id": 4}
    (tmp_path / "anchors.jsonl").write_text(json.dumps(forged) + "\n")
    result = log.verify()
    assert not result.ok and "not signed with this audit key" in result.problem


def test_records_from_before_the_key_are_pinned_by_the_chain_keyed_record(tmp_path):
    """An unkeyed chain of an older version: the first keyed append marks where the key starts;
    verify checks the older records as sha256, and editing one breaks the keyed record after them."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine)
    from sqlalchemy import insert

    from assistant.storage.models import AuditRecord, utcnow

    prev = "0" * 64
    with engine.begin() as c:
        for rid in (1, 2, 3):
            now, payload = utcnow(), {"input": f"old {rid}"}
            digest = record_hash(prev, rid, now, "turn", "c0", payload)
            c.execute(insert(AuditRecord.__table__), {"id": rid, "created_at": now, "kind": "turn", "conversation_id": "c0",
                                                      "payload": payload, "prev_hash": prev, "hash": digest})
            prev = digest
    log = open_log(engine, tmp_path / "anchors.jsonl")
    assert "not keyed" in log.verify().problem
    log.append("turn", {"input": "new"}, "c1")
    result = log.verify()
    assert result.ok and result.checked == 5 and result.legacy == 3
    assert [r["kind"] for r in rows(engine)][3] == "chain_keyed"
    rewrite_with_sha256(engine, 2, {"input": "rewritten"})
    result = log.verify()
    assert not result.ok and "record 4 was altered" in result.problem


def test_dropping_the_oldest_records_and_moving_the_start_is_detected(audit):
    log, engine = audit
    second = rows(engine)[1]
    with engine.begin() as c:  # what a purge does, without the key: no purge record vouches for it
        c.execute(text("DELETE FROM audit_records WHERE id <= 2"))
        c.execute(text("INSERT INTO audit_anchor VALUES (1, 2, :h, '2026-01-01 00:00:00.000000')"), {"h": second["hash"]})
    result = log.verify()
    assert not result.ok and "no purge record vouches" in result.problem


def test_a_rolled_back_first_append_leaves_the_chain_verifiable(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    log = AuditLog(sessions, key=KEY)
    with pytest.raises(RuntimeError), sessions.begin() as s:  # the action after the record fails: both roll back
        log.append_in(s.connection(), "turn", {"input": "lost"}, "c1")
        raise RuntimeError("the action failed")
    log.append("turn", {"input": "kept"}, "c1")
    result = log.verify()
    assert result.ok and result.checked == 2 and [r["kind"] for r in rows(engine)] == ["chain_keyed", "turn"]


def test_purge_keeps_the_rest_verifiable(audit):
    log, _ = audit
    assert log.purge(timedelta(days=-1)) == 6  # a cutoff in the future: every record is past retention
    result = log.verify()
    assert result.ok and result.checked == 1  # the purge record itself, chained to the purged head
    log.append("turn", {"input": "new"}, "c2")
    assert log.verify().ok and log.verify().checked == 2
    assert log.purge(timedelta(days=30)) == 0


def test_key_file_is_created_private_once_and_reused(tmp_path):
    path = tmp_path / "data" / "audit.key"
    key = load_key(None, path, create=True)
    assert len(key) >= 32 and (path.stat().st_mode & 0o777) == 0o600
    assert load_key(None, path, create=True) == key
    assert load_key("from-the-environment-" + "z" * 16, path, create=True).startswith(b"from-the-environment")
    with pytest.raises(AuditKeyError):
        load_key(None, tmp_path / "missing.key", create=False)
    with pytest.raises(ValueError):
        AuditLog(None, key=b"short")
