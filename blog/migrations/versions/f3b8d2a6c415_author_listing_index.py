"""ix_posts_author_listing: whether the site has several authors, in two index probes

Revision ID: f3b8d2a6c415
Revises: e5a1c3d7b902
Create Date: 2026-12-02 06:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "f3b8d2a6c415"
down_revision = "e5a1c3d7b902"
branch_labels = None
depends_on = None


def upgrade():
    # Authors in order, with what tells whether each post is listed beside them: the
    # lowest and highest author of a listed post are each found at the first match.
    op.create_index(
        "ix_posts_author_listing",
        "posts",
        ["author_id", "published_at", "status"],
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


def downgrade():
    op.drop_index("ix_posts_author_listing", table_name="posts")
