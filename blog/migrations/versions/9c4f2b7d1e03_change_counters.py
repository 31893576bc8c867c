"""change_counters: what cached public pages are checked against, shared by every process

Revision ID: 9c4f2b7d1e03
Revises: 7b3e5d1c2a90
Create Date: 2026-12-02 01:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "9c4f2b7d1e03"
down_revision = "7b3e5d1c2a90"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "change_counters",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.execute("INSERT INTO change_counters (name, value) VALUES ('public', 0)")


def downgrade():
    op.drop_table("change_counters")
