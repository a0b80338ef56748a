"""Migration 0011 on a database with history: conversations get when their customer first spoke and when
they were first handed off, so the dashboard counts stored history the way it counts new conversations."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from assistant.storage.db import MIGRATIONS, make_engine


def upgrade(engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_history_before_the_migration_is_filled_in(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine, "0010")
    with engine.begin() as c:
        for cid in ("spoke", "silent", "handed"):
            c.execute(text("INSERT INTO conversations (id, channel, status, created_at, updated_at) "
                           "VALUES (:id, 'web', 'bot', '2026-01-05 10:00:00.000000', '2026-01-05 10:00:00.000000')"),
                      {"id": cid})
        for cid, role, at in (("spoke", "assistant", "10:00:01"), ("spoke", "user", "10:00:02"),
                              ("spoke", "user", "10:00:09"), ("handed", "user", "10:00:03")):
            c.execute(text("INSERT INTO messages (conversation_id, role, text, channel, created_at) "
                           "VALUES (:cid, :role, 'x', 'web', :at)"), {"cid": cid, "role": role, "at": f"2026-01-05 {at}.000000"})
        for at in ("10:01:00", "10:05:00"):
            c.execute(text("INSERT INTO tickets (conversation_id, status, reason, channel, summary, created_at) "
                           "VALUES ('handed', 'closed', 'r', 'web', '', :at)"), {"at": f"2026-01-05 {at}.000000"})
    upgrade(engine, "head")
    with engine.connect() as c:
        rows = {r.id: (r.first_user_at, r.handed_off_at) for r in
                c.execute(text("SELECT id, first_user_at, handed_off_at FROM conversations"))}
    assert rows == {"spoke": ("2026-01-05 10:00:02.000000", None), "silent": (None, None),
                    "handed": ("2026-01-05 10:00:03.000000", "2026-01-05 10:01:00.000000")}
    engine.dispose()
