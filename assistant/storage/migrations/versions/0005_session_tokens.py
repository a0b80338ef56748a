"""customer session tokens (sha256 of a random token per conversation)

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Null for conversations a server-side channel owns (robot, phone): no customer token reads them.
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("token_hash")
