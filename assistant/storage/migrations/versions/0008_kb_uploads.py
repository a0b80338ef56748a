"""knowledge-base documents changed through the admin API (every replica syncs its folder from them)

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_uploads",
        sa.Column("rel_path", sa.String(300), primary_key=True),  # under the knowledge-base folder
        sa.Column("data", sa.LargeBinary, nullable=True),  # None: the document was deleted
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kb_uploads")
