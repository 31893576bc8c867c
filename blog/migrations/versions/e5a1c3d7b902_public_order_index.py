"""ix_posts_public_order: lists and previous/next links walk an index, never sort a table

Revision ID: e5a1c3d7b902
Revises: 9c4f2b7d1e03
Create Date: 2026-12-02 05:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e5a1c3d7b902"
down_revision = "9c4f2b7d1e03"
branch_labels = None
depends_on = None


def upgrade():
    # Newest first by (published_at, id), with the status beside them so the list's
    # conditions are checked in the index; trashed posts are not in it at all.
    op.create_index(
        "ix_posts_public_order",
        "posts",
        ["published_at", "id", "status"],
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


def downgrade():
    op.drop_index("ix_posts_public_order", table_name="posts")
