"""post_media: which stored files each post uses, so the media page never scans bodies

Revision ID: 5a7d2c8e9f10
Revises: 3c9e1f2a7b44
Create Date: 2026-12-01 21:30:00

"""

import re

import sqlalchemy as sa
from alembic import op

revision = "5a7d2c8e9f10"
down_revision = "3c9e1f2a7b44"
branch_labels = None
depends_on = None

_MEDIA_REFERENCE = re.compile(r"/media/([0-9a-f]{64})/")


def upgrade():
    op.create_table(
        "post_media",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", "media_id"),
    )
    with op.batch_alter_table("post_media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_media_media_id"), ["media_id"], unique=False)
    # Existing posts: read their references once, as saving will from now on.
    connection = op.get_bind()
    media_ids = dict(connection.execute(sa.text("SELECT sha256, id FROM media")).all())
    rows = []
    for post_id, source, feature_image in connection.execute(
        sa.text("SELECT id, source, feature_image FROM posts")
    ):
        found = set(_MEDIA_REFERENCE.findall(f"{source or ''} {feature_image or ''}"))
        rows.extend({"post_id": post_id, "media_id": media_ids[sha]} for sha in found
                    if sha in media_ids)  # fmt: skip
    if rows:
        connection.execute(
            sa.text("INSERT INTO post_media (post_id, media_id) VALUES (:post_id, :media_id)"),
            rows,
        )


def downgrade():
    op.drop_table("post_media")
