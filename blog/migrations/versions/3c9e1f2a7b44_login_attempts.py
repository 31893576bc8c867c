"""Login attempts: throttling counted in the database, shared by every process

Revision ID: 3c9e1f2a7b44
Revises: 178d4886ab14
Create Date: 2026-12-01 21:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "3c9e1f2a7b44"
down_revision = "178d4886ab14"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_key", sa.String(length=300), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempts_account", ["account_key", "created_at"])
        batch_op.create_index(batch_op.f("ix_login_attempts_address"), ["address"])
        batch_op.create_index(batch_op.f("ix_login_attempts_created_at"), ["created_at"])


def downgrade():
    op.drop_table("login_attempts")
