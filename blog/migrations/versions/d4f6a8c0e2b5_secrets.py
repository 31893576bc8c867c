"""secrets: the key that signs sessions, kept in the database instead of instance/secret_key

Revision ID: d4f6a8c0e2b5
Revises: c5d7e9f1a3b6
Create Date: 2026-12-02 11:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d4f6a8c0e2b5"
down_revision = "c5d7e9f1a3b6"
branch_labels = None
depends_on = None


def upgrade():
    # The key itself is stored by `blog init` (or the first start), which moves an existing
    # instance/secret_key file in: a migration does not know the data directory.
    op.create_table(
        "secrets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade():
    op.drop_table("secrets")
