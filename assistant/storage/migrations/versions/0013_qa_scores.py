"""quality inspection: scores of closed conversations, item results with evidence, reviews, teams

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qa_scores",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(36), sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("scorecard", sa.String(64), nullable=False),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_id", sa.Integer, nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("risk", sa.JSON, nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer", sa.String(64), nullable=True),
        sa.UniqueConstraint("conversation_id", "scorecard"),
    )
    op.create_index("ix_qa_scores_conversation_id", "qa_scores", ["conversation_id"])
    op.create_index("ix_qa_scores_agent", "qa_scores", ["agent"])
    op.create_index("ix_qa_scores_closed_at", "qa_scores", ["closed_at"])
    op.create_index("ix_qa_scores_reviewed_at", "qa_scores", ["reviewed_at"])
    op.create_table(
        "qa_item_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("score_id", sa.Integer, sa.ForeignKey("qa_scores.id", ondelete="CASCADE"), nullable=False),
        sa.Column("item_id", sa.String(48), nullable=False),
        sa.Column("part", sa.String(8), nullable=False),
        sa.Column("result", sa.String(4), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("critical", sa.Boolean, nullable=False),
        sa.Column("message_id", sa.Integer, nullable=True),
        sa.Column("span_start", sa.Integer, nullable=True),
        sa.Column("span_end", sa.Integer, nullable=True),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("review_result", sa.String(4), nullable=True),
        sa.Column("reviewer", sa.String(64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.String(300), nullable=True),
    )
    op.create_index("ix_qa_item_results_score_id", "qa_item_results", ["score_id"])
    op.create_table(
        "qa_teams",
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("team", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("qa_teams")
    op.drop_table("qa_item_results")
    op.drop_table("qa_scores")
