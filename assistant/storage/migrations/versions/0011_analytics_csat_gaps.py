"""analytics: when each conversation's customer first spoke and when it was first handed off, each reply's
dialogue route and flow outcome, satisfaction surveys, knowledge gaps, and the
indexes the dashboard's queries read (bench/analytics_queries.py)

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _conversation_times()
    _message_routes()
    _indexes()
    _tables()


def _conversation_times() -> None:
    """When each conversation's customer first spoke and when it was first handed off, filled in for history."""
    op.add_column("conversations", sa.Column("first_user_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("conversations", sa.Column("handed_off_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE conversations SET first_user_at = (SELECT min(m.created_at) FROM messages m "
               "WHERE m.conversation_id = conversations.id AND m.role = 'user')")
    op.execute("UPDATE conversations SET handed_off_at = (SELECT min(t.created_at) FROM tickets t "
               "WHERE t.conversation_id = conversations.id)")


def _message_routes() -> None:
    """Each reply's dialogue route and flow outcome."""
    op.add_column("messages", sa.Column("route", sa.String(24), nullable=True))
    op.add_column("messages", sa.Column("flow", sa.String(64), nullable=True))
    op.add_column("messages", sa.Column("flow_outcome", sa.String(16), nullable=True))


def _indexes() -> None:
    """The indexes the dashboard's queries read."""
    # One covering index for the per-message figures (routes, intents, unanswered): a range of one role.
    op.create_index("ix_messages_analytics", "messages",
                    ["role", "created_at", "channel", "path", "intent", "intent_confidence", "feedback"])
    op.create_index("ix_messages_intent", "messages", ["intent", "role", "created_at", "channel", "conversation_id"])
    op.create_index("ix_messages_feedback", "messages", ["feedback", "created_at"],
                    sqlite_where=sa.text("feedback IS NOT NULL"), postgresql_where=sa.text("feedback IS NOT NULL"))
    op.create_index("ix_messages_flows", "messages", ["created_at", "flow", "route", "flow_outcome", "channel", "intent"],
                    sqlite_where=sa.text("flow IS NOT NULL"), postgresql_where=sa.text("flow IS NOT NULL"))
    op.create_index("ix_conversations_created", "conversations", ["created_at", "channel", "first_user_at", "handed_off_at"])
    op.create_index("ix_tickets_created", "tickets", ["created_at", "channel"])


def _tables() -> None:
    """Satisfaction surveys, knowledge gaps and the analytics job's marks."""
    op.create_table(
        "csat_responses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(36), sa.ForeignKey("conversations.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "gap_questions",
        sa.Column("message_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("conversation_id", sa.String(36), sa.ForeignKey("conversations.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("gap_id", sa.String(40), nullable=True, index=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "knowledge_gaps",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("centroid", sa.LargeBinary, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("examples", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "analytics_marks",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("number", sa.Integer, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("analytics_marks")
    op.drop_table("knowledge_gaps")
    op.drop_table("gap_questions")
    op.drop_table("csat_responses")
    op.drop_index("ix_tickets_created", "tickets")
    op.drop_index("ix_conversations_created", "conversations")
    op.drop_index("ix_messages_flows", "messages")
    op.drop_index("ix_messages_feedback", "messages")
    op.drop_index("ix_messages_intent", "messages")
    op.drop_index("ix_messages_analytics", "messages")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("handed_off_at")
        batch.drop_column("first_user_at")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("flow_outcome")
        batch.drop_column("flow")
        batch.drop_column("route")
