"""posts.reading_minutes: reading time, derived on save

Revision ID: a6d4e2f8c1b7
Revises: a4c6e8f0b213
Create Date: 2026-12-03 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a6d4e2f8c1b7"
down_revision = "a4c6e8f0b213"
branch_labels = None
depends_on = None


def upgrade():
    # NULL for every existing post: `blog init` renders those again (code highlighting,
    # tables of contents) and counts their reading time, without a new revision.
    op.add_column("posts", sa.Column("reading_minutes", sa.Integer(), nullable=True))
    # Posts that share a tag with a post (related posts) are found from the tag's side.
    op.create_index("ix_post_tags_tag", "post_tags", ["tag_id", "post_id"])


def downgrade():
    op.drop_index("ix_post_tags_tag", table_name="post_tags")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("reading_minutes")
