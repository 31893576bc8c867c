"""post_search on PostgreSQL: pg_trgm's trigram indexes of public posts' text, filled for the
posts there are (SQLite's FTS5 index came in b71e4c9a2d58 and c5d7e9f1a3b6)

Revision ID: d2f6a8c4e1b9
Revises: d4f6a8c0e2b5
Create Date: 2026-12-02 11:00:00

"""

import unicodedata
from html.parser import HTMLParser

import sqlalchemy as sa
from alembic import op

revision = "d2f6a8c4e1b9"
down_revision = "d4f6a8c0e2b5"
branch_labels = None
depends_on = None

# As content/search.py and search_postgres.py kept them when this was written (a migration
# never changes after).
PADDING = "  "
BATCH = 500
SCHEMA = (
    # A trusted extension since PostgreSQL 13: the database's owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE post_search ("
    " post_id integer PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,"
    " title text NOT NULL, body text NOT NULL, excerpt text NOT NULL,"
    " feature_text text NOT NULL, terms text NOT NULL,"
    " folded_title text NOT NULL, folded text NOT NULL, pairs text NOT NULL)",
    "CREATE INDEX post_search_folded ON post_search USING gin (folded gin_trgm_ops)",
    "CREATE INDEX post_search_folded_title ON post_search USING gin (folded_title gin_trgm_ops)",
    "CREATE INDEX post_search_pairs ON post_search USING gin (pairs gin_trgm_ops)",
)
FIELD_SEPARATOR = "\x01"


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


def _folded(value):
    return value.lower().replace(FIELD_SEPARATOR, " ")


def _pairs(value):
    words = []
    for word in value.split():
        words += [word[start : start + 2] for start in range(len(word) - 1)]
        words.append(word[-1])
    return " " + " ".join(words) + " "


def _row(post_id, fields):
    """post_search's values for one post: `fields` as shown, folded for matching, and the
    folded text's words of one and two characters."""
    names = ("title", "body", "excerpt", "feature_text", "terms")
    folded = [_folded(field) for field in fields]
    return {
        "post_id": post_id,
        **dict(zip(names, fields, strict=True)),
        "folded_title": folded[0],
        "folded": FIELD_SEPARATOR.join(folded),
        "pairs": FIELD_SEPARATOR.join(_pairs(field) for field in folded),
    }


def upgrade():
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return  # SQLite's index is FTS5 (earlier migrations)
    for statement in SCHEMA:
        op.execute(statement)
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
                "INSERT INTO post_search (post_id, title, body, excerpt, feature_text, terms, "
                "folded_title, folded, pairs) VALUES (:post_id, :title, :body, :excerpt, "
                ":feature_text, :terms, :folded_title, :folded, :pairs)"
            ),
            [
                _row(
                    post_id,
                    [
                        _indexed(title),
                        _indexed(_body_text(body_html)),
                        _indexed(excerpt),
                        _indexed(feature_text),
                        _indexed(" ".join(names[post_id])),
                    ],
                )  # fmt: skip
                for post_id, title, body_html, excerpt, feature_text in posts
            ],
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    # The extension stays: other tables of the database may use it.
    op.execute("DROP TABLE post_search")
