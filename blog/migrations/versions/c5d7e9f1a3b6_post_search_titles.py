"""post_search_title: the titles of post_search alone, for "title matches first"

Revision ID: c5d7e9f1a3b6
Revises: a6d4e2f8c1b7
Create Date: 2026-12-02 09:00:00

"""

from alembic import op

revision = "c5d7e9f1a3b6"
down_revision = "a6d4e2f8c1b7"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return  # the search index is SQLite's FTS5 for now
    op.execute("CREATE VIRTUAL TABLE post_search_title USING fts5(title, tokenize='trigram')")
    op.execute("INSERT INTO post_search_title (rowid, title) SELECT rowid, title FROM post_search")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE post_search_title")
