"""staff roles: an account's role column holds a comma-separated list of roles

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.alter_column("role", existing_type=sa.String(16), type_=sa.String(120))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.alter_column("role", existing_type=sa.String(120), type_=sa.String(16))
