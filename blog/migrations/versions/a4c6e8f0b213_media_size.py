"""media width and height, for <img width height>; an index from a category to its posts

Revision ID: a4c6e8f0b213
Revises: b71e4c9a2d58
Create Date: 2026-12-03 09:00:00

"""

import io

import sqlalchemy as sa
from alembic import op

revision = "a4c6e8f0b213"
down_revision = "b71e4c9a2d58"
branch_labels = None
depends_on = None

# Pillow's names for the raster types the media store holds (as content/media.py had them
# when this migration was written). SVG sizes are left unknown: their <img> stays unsized.
_PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/avif": "AVIF",
}


def _size(data, content_type):
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[content_type]]) as image:
            return image.size  # from the header: no pixel is decoded
    except Exception:  # a file Pillow cannot read keeps an unknown size
        return None


def upgrade():
    op.add_column("media", sa.Column("width", sa.Integer(), nullable=True))
    op.add_column("media", sa.Column("height", sa.Integer(), nullable=True))
    op.create_index("ix_post_categories_category", "post_categories", ["category_id", "post_id"])
    # Existing files get their size now, one file read at a time (they can be large).
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, content_type FROM media WHERE content_type IN :types").bindparams(
            sa.bindparam("types", expanding=True)
        ),
        {"types": list(_PILLOW_FORMATS)},
    ).all()
    for media_id, content_type in rows:
        data = connection.execute(
            sa.text("SELECT data FROM media WHERE id = :id"), {"id": media_id}
        ).scalar()
        size = _size(data, content_type) if data else None
        if size is not None:
            connection.execute(
                sa.text("UPDATE media SET width = :width, height = :height WHERE id = :id"),
                {"width": size[0], "height": size[1], "id": media_id},
            )


def downgrade():
    op.drop_index("ix_post_categories_category", table_name="post_categories")
    with op.batch_alter_table("media") as batch:
        batch.drop_column("height")
        batch.drop_column("width")
