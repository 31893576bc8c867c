"""newsroom: review notes, who trashed a post, bylines, folded taxonomy names and their old
slugs, media alt text

Revision ID: 7b3e5d1c2a90
Revises: 5a7d2c8e9f10
Create Date: 2026-12-01 23:40:00

"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "7b3e5d1c2a90"
down_revision = "5a7d2c8e9f10"
branch_labels = None
depends_on = None


def _fold(name: str) -> str:
    # models.fold_name as it was when this migration was written.
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold()).strip()


# table -> (kind, association table, its column naming the term, redirect column)
_TERMS = {
    "categories": ("category", "post_categories", "category_id", "category_id"),
    "tags": ("tag", "post_tags", "tag_id", "tag_id"),
}


def _fold_existing_names(table: str) -> None:
    """Fill name_key. Names that fold alike ("News" and "news" were both possible) are
    one name from now on: the later rows are merged into the first, their posts moved and
    their addresses answering for it, as a merge on the taxonomy page does."""
    kind, links, column, redirect_column = _TERMS[table]
    connection = op.get_bind()
    first_of: dict[str, int] = {}
    rows = connection.execute(sa.text(f"SELECT id, name, slug FROM {table} ORDER BY id")).all()
    for row_id, name, slug in rows:
        key = _fold(name or "") or f"#{row_id}"
        keeper = first_of.setdefault(key, row_id)
        if keeper == row_id:
            connection.execute(
                sa.text(f"UPDATE {table} SET name_key = :key WHERE id = :id"),
                {"key": key, "id": row_id},
            )
            continue
        params = {"keeper": keeper, "gone": row_id}
        # Posts that have both keep one link; the others move over.
        connection.execute(
            sa.text(
                f"DELETE FROM {links} WHERE {column} = :gone AND post_id IN "
                f"(SELECT post_id FROM {links} WHERE {column} = :keeper)"
            ),
            params,
        )
        connection.execute(
            sa.text(f"UPDATE {links} SET {column} = :keeper WHERE {column} = :gone"), params
        )
        connection.execute(
            sa.text(
                f"INSERT INTO taxonomy_redirects (kind, old_slug, {redirect_column}, created_at) "
                "VALUES (:kind, :slug, :keeper, CURRENT_TIMESTAMP)"
            ),
            {"kind": kind, "slug": slug, "keeper": keeper},
        )
        connection.execute(sa.text(f"DELETE FROM {table} WHERE id = :gone"), params)


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bio", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("avatar", sa.String(length=1000), server_default="", nullable=False)
        )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_note", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("deleted_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_posts_deleted_by_id_users", "users", ["deleted_by_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("alt", sa.String(length=500), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("caption", sa.String(length=1000), server_default="", nullable=False)
        )
    op.create_table(
        "taxonomy_redirects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("old_slug", sa.String(length=200), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("tag_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "old_slug"),
    )
    with op.batch_alter_table("taxonomy_redirects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_taxonomy_redirects_category_id"), ["category_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_taxonomy_redirects_tag_id"), ["tag_id"], unique=False)
    for table in ("categories", "tags"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("name_key", sa.String(length=400), nullable=True))
            batch_op.add_column(
                sa.Column("slug_locked", sa.Boolean(), server_default=sa.false(), nullable=False)
            )
        _fold_existing_names(table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("name_key", existing_type=sa.String(length=400), nullable=False)
            batch_op.create_unique_constraint(f"uq_{table}_name_key", ["name_key"])


def downgrade():
    op.drop_table("taxonomy_redirects")
    for table in ("tags", "categories"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_name_key", type_="unique")
            batch_op.drop_column("slug_locked")
            batch_op.drop_column("name_key")
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_column("caption")
        batch_op.drop_column("alt")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_constraint("fk_posts_deleted_by_id_users", type_="foreignkey")
        batch_op.drop_column("deleted_by_id")
        batch_op.drop_column("review_note")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("avatar")
        batch_op.drop_column("bio")
