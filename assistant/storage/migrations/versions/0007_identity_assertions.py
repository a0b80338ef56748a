"""identity assertions already used (replay protection)

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_assertions_used",
        sa.Column("jti_hash", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_identity_assertions_used_expires_at", "identity_assertions_used", ["expires_at"])


def downgrade() -> None:
    op.drop_table("identity_assertions_used")
