"""post_search: an FTS5 trigram index of public posts' text, filled for the posts there are

Revision ID: b71e4c9a2d58
Revises: f3b8d2a6c415
Create Date: 2026-12-03 09:00:00

"""

import unicodedata
from html.parser import HTMLParser

import sqlalchemy as sa
from alembic import op

revision = "b71e4c9a2d58"
down_revision = "f3b8d2a6c415"
branch_labels = None
depends_on = None

# As content/search.py kept them when this was written (a migration never changes after).
PADDING = "  "
BATCH = 500


class _Text(HTMLParser):
    """The text of a sanitised body, a space between blocks (markup.html_to_text)."""

    _BLOCKS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "br", "blockquote",
               "pre", "table", "section", "figure", "dd", "dt"}  # fmt: skip

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks = [[]]
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self._skip += 1
        elif tag in self._BLOCKS:
            self.blocks.append([])

    def handle_endtag(self, tag):
        if tag in {"script", "style"}:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self.blocks.append([])

    def handle_data(self, data):
        if not self._skip:
            self.blocks[-1].append(data)


def _body_text(body_html):
    parser = _Text()
    parser.feed(body_html or "")
    parser.close()
    blocks = (" ".join("".join(parts).split()) for parts in parser.blocks)
    return " ".join(block for block in blocks if block)


def _indexed(value):
    return unicodedata.normalize("NFC", value or "") + PADDING


def upgrade():
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return  # PostgreSQL's search (pg_trgm) is a later migration
    op.execute(
        "CREATE VIRTUAL TABLE post_search USING fts5("
        "title, body, excerpt, feature_text, terms, tokenize='trigram')"
    )
    op.execute("CREATE VIRTUAL TABLE post_search_vocab USING fts5vocab(post_search, 'row')")
    # The posts readers can find now or at their time, in batches (a body can be 1 MB).
    last_id = 0
    while True:
        posts = connection.execute(
            sa.text(
                "SELECT id, title, body_html, excerpt, feature_text FROM posts "
                "WHERE status IN ('published', 'scheduled') AND deleted_at IS NULL "
                "AND id > :last ORDER BY id LIMIT :batch"
            ),
            {"last": last_id, "batch": BATCH},
        ).all()
        if not posts:
            break
        last_id = posts[-1][0]
        names = {post[0]: [] for post in posts}
        for link, terms, key in (("post_categories", "categories", "category_id"),
                                 ("post_tags", "tags", "tag_id")):  # fmt: skip
            rows = connection.execute(
                sa.text(
                    f"SELECT l.post_id, t.name FROM {link} l JOIN {terms} t ON t.id = l.{key} "
                    "WHERE l.post_id BETWEEN :first AND :last ORDER BY l.post_id, t.name"
                ),
                {"first": posts[0][0], "last": last_id},
            )
            for post_id, name in rows:
                if post_id in names:
                    names[post_id].append(name)
        connection.execute(
            sa.text(
                "INSERT INTO post_search (rowid, title, body, excerpt, feature_text, terms) "
                "VALUES (:id, :title, :body, :excerpt, :feature_text, :terms)"
            ),
            [
                {
                    "id": post_id,
                    "title": _indexed(title),
                    "body": _indexed(_body_text(body_html)),
                    "excerpt": _indexed(excerpt),
                    "feature_text": _indexed(feature_text),
                    "terms": _indexed(" ".join(names[post_id])),
                }
                for post_id, title, body_html, excerpt, feature_text in posts
            ],
        )


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE post_search_vocab")
    op.execute("DROP TABLE post_search")
