"""analytics: daily rollups of the dashboard's counts, the days they cover, and triggers that mark the day of
every written message, conversation or ticket dirty (assistant/analytics/rollups.py); stored history is marked dirty
so that the first refresh builds its rollups

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Columns whose change can move a figure: a write to any of them marks the row's day (old and new) dirty.
WATCHED = {"messages": "role, channel, created_at, path, intent, intent_confidence, feedback, citations",
           "conversations": "channel, created_at, first_user_at, handed_off_at",
           "tickets": "channel, created_at, status, claimed_by, claimed_at, closed_at"}
ROLLUPS = {
    "rollup_replies": [sa.Column("channel", sa.String(16), nullable=False), sa.Column("path", sa.String(16)),
                       sa.Column("n", sa.Integer, nullable=False), sa.Column("low", sa.Integer, nullable=False)],
    "rollup_questions": [sa.Column("channel", sa.String(16), nullable=False),
                         sa.Column("intent", sa.String(64), nullable=False), sa.Column("n", sa.Integer, nullable=False)],
    "rollup_conversations": [sa.Column("channel", sa.String(16), nullable=False),
                             sa.Column("n", sa.Integer, nullable=False), sa.Column("handed", sa.Integer, nullable=False)],
    "rollup_doc_ratings": [sa.Column("channel", sa.String(16), nullable=False),
                           sa.Column("doc_id", sa.String(200), nullable=False),
                           sa.Column("title", sa.String(500), nullable=False),
                           sa.Column("down", sa.Integer, nullable=False), sa.Column("up", sa.Integer, nullable=False)],
    "rollup_tickets": [sa.Column("channel", sa.String(16), nullable=False),
                       sa.Column("groups", sa.Text, nullable=False),
                       sa.Column("durations", sa.LargeBinary, nullable=False)],
}


def _sqlite_triggers(table: str) -> list[str]:
    mark = "INSERT OR IGNORE INTO rollup_dirty_days (day) VALUES (substr({}.created_at, 1, 10));"
    name = f"rollup_mark_{table}"
    return [f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} BEGIN {mark.format('NEW')} END",
            f"CREATE TRIGGER {name}_upd AFTER UPDATE OF {WATCHED[table]} ON {table} "
            f"BEGIN {mark.format('OLD')} {mark.format('NEW')} END",
            f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} BEGIN {mark.format('OLD')} END"]


PG_FUNCTION = """
CREATE FUNCTION rollup_mark_day() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO rollup_dirty_days (day) VALUES (to_char(OLD.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'))
        ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO rollup_dirty_days (day) VALUES (to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'))
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$
"""


def _pg_triggers(table: str) -> list[str]:
    name = f"rollup_mark_{table}"
    return [f"CREATE TRIGGER {name}_insdel AFTER INSERT OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION rollup_mark_day()",
            f"CREATE TRIGGER {name}_upd AFTER UPDATE OF {WATCHED[table]} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION rollup_mark_day()"]


def upgrade() -> None:
    op.create_table("rollup_days", sa.Column("day", sa.String(10), primary_key=True))
    op.create_table("rollup_dirty_days", sa.Column("day", sa.String(10), primary_key=True))
    for table, columns in ROLLUPS.items():
        op.create_table(table, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                        sa.Column("day", sa.String(10), nullable=False), *columns)
        # covering: a figure reads a range of days and sums without visiting the table
        op.create_index(f"ix_{table}_day", table, ["day", *(c.name for c in columns
                                                                 if not isinstance(c.type, sa.Text | sa.LargeBinary))])
    postgres = op.get_bind().dialect.name == "postgresql"
    day = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD')" if postgres else "substr({}, 1, 10)"
    for table in WATCHED:
        op.execute(f"INSERT INTO rollup_dirty_days (day) SELECT DISTINCT {day.format('created_at')} FROM {table} "
                   "WHERE 1 = 1 ON CONFLICT DO NOTHING")  # WHERE: SQLite reads a bare ON after FROM as a join
    if postgres:
        op.execute(PG_FUNCTION)
    for table in WATCHED:
        for statement in (_pg_triggers if postgres else _sqlite_triggers)(table):
            op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in WATCHED:
        for suffix in ("insdel", "upd") if postgres else ("ins", "upd", "del"):
            op.execute(f"DROP TRIGGER rollup_mark_{table}_{suffix}" + (f" ON {table}" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION rollup_mark_day()")
    for table in (*ROLLUPS, "rollup_dirty_days", "rollup_days"):
        op.drop_table(table)
