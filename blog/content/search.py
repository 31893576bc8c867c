"""Full-text search of public posts: the query a reader types, the index kept on every write,
and the page of results with the matching passage highlighted.

The index holds, per post readers can find (published or scheduled, not in the trash), its
title, body text (the sanitised HTML without tags), excerpt, feature text and the names of its
categories and tags. It is written in the transaction of the change that alters any of them
(see `index_post`, `forget_posts`, `refresh_terms`, `reindex_posts`), so a reader never finds
a post by words it no longer has. A scheduled post is indexed when saved and found once its
time has come: the query checks the time, as the lists do.

What the database does is behind `SearchIndex`: SQLite's FTS5 with the trigram tokenizer
(`SqliteSearchIndex`), PostgreSQL's pg_trgm (search_postgres.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from markupsafe import Markup, escape
from sqlalchemy import (
    DDL,
    Integer,
    bindparam,
    column,
    event,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from .. import changes
from ..extensions import db
from ..models import Category, Post, PostStatus, Tag, UTCDateTime, post_categories, post_tags
from .markup import html_to_text

# A query is cut to this many characters, and to this many words or phrases: enough for any
# real search, and a 10,000-character paste costs no more than a sentence.
MAX_QUERY_CHARS = 200
MAX_TERMS = 8
# Results pages past this one are not looked for (the offset stays small).
MAX_PAGE = 100
# Characters of body text around the first match that a result shows.
PASSAGE_CHARS = 180

# Statuses whose posts readers can find in lists (scheduled ones once their time comes).
SEARCHABLE_STATUSES = (PostStatus.PUBLISHED.value, PostStatus.SCHEDULED.value)


# --- the query -------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    """What the reader asked for: the words and "quoted phrases", each to be found somewhere
    in the post (all of them), as substrings: "통령실" finds "대통령실은"."""

    text: str
    terms: tuple[str, ...]

    @classmethod
    def parse(cls, raw: str) -> SearchQuery:
        """The query in `raw`, typed by anyone: control characters (NUL ...) become spaces,
        Unicode is composed (NFC, as the index is), and it is cut to MAX_QUERY_CHARS."""
        cleaned = "".join(
            " " if unicodedata.category(char)[0] == "C" else char
            for char in unicodedata.normalize("NFC", raw[: MAX_QUERY_CHARS * 4])
        )
        cleaned = " ".join(cleaned.split())[:MAX_QUERY_CHARS]
        terms: list[str] = []
        # Between quotes (odd pieces) is a phrase; outside them, words. An unclosed quote
        # runs to the end.
        for index, piece in enumerate(cleaned.split('"')):
            found = [" ".join(piece.split())] if index % 2 else piece.split()
            for term in found:
                if term and term.lower() not in {t.lower() for t in terms}:
                    terms.append(term)
        return cls(cleaned, tuple(terms[:MAX_TERMS]))

    def __bool__(self) -> bool:
        return bool(self.terms)


# --- what the index holds for a post ---------------------------------------------------

# Each indexed text ends with two spaces, so that every occurrence of a one- or two-character
# word begins a trigram the index holds (see SqliteSearchIndex.short_term_trigrams).
PADDING = "  "


@dataclass(frozen=True)
class IndexedPost:
    """One post's row in the index."""

    post_id: int
    title: str
    body: str
    excerpt: str
    feature_text: str
    terms: str

    @classmethod
    def of(cls, post: Post, body_text: str) -> IndexedPost:
        names = [term.name for term in (*post.categories, *post.tags)]
        return cls(
            post.id,
            indexed_text(post.title),
            indexed_text(body_text),
            indexed_text(post.excerpt or ""),
            indexed_text(post.feature_text or ""),
            indexed_text(" ".join(names)),
        )


def indexed_text(value: str) -> str:
    """`value` as the index keeps it: composed Unicode (a decomposed 한 matches a typed one)."""
    return unicodedata.normalize("NFC", value) + PADDING


def shown_text(value: str | None) -> str:
    """An indexed text as it was given (without the padding)."""
    value = value or ""
    return value[: -len(PADDING)] if value.endswith(PADDING) else value


def is_searchable(post: Post) -> bool:
    """Whether readers may find `post` (scheduled ones from their time on)."""
    return post.status in SEARCHABLE_STATUSES and post.deleted_at is None


# --- the database seam -----------------------------------------------------------------


class SearchIndex(Protocol):
    """What a database does for search; every method runs in the caller's transaction."""

    def store(self, session: Session, rows: Sequence[IndexedPost]) -> None: ...

    def forget(self, session: Session, post_ids: Iterable[int]) -> None: ...

    def set_terms(self, session: Session, terms: dict[int, str]) -> None: ...

    def matching_ids(
        self, session: Session, query: SearchQuery, now: datetime, limit: int, offset: int
    ) -> list[int]: ...

    def texts(self, session: Session, post_ids: Sequence[int]) -> dict[int, IndexedPost]: ...


_INDEX_COLUMNS = ("title", "body", "excerpt", "feature_text", "terms")
_fts = table("post_search", column("rowid", Integer), *(column(name) for name in _INDEX_COLUMNS))
# bm25 weights, in _INDEX_COLUMNS order: a word in the title or a tag says more about the
# post than the same word deep in its body.
_BM25_WEIGHTS = (10.0, 1.0, 3.0, 3.0, 5.0)
# Matches ranked per search: the newest this many, plus every post whose title matches (see
# matching_ids). As many as the result pages readers can reach (MAX_PAGE of ten).
CANDIDATES = 1_000
# bm25 weighs each word by how few posts have it, which FTS5 learns by reading every post
# that has it: ranked by bm25 only when every word is in fewer posts than this. A word that
# common says little about relevance anyway; such searches show the newest first.
MAX_POSTS_FOR_BM25 = 1_000
# A one- or two-character word is looked up as every trigram that starts with it; past this
# many (a single common letter), the posts' text is scanned instead.
MAX_TRIGRAMS_PER_WORD = 2_000
# Short words whose trigrams are kept, per public state (reading them costs ~25 ms at
# 100,000 posts: fts5vocab counts every posting).
MAX_SHORT_WORDS_KEPT = 1_000

# The SQLite schema (the migration that adds it keeps its own copy, as migrations do). The
# index keeps its own copy of the text: the body text exists nowhere else (posts keep HTML),
# so an external-content table would need a second table of it anyway, and a contentless
# one can neither show the matching passage nor, before SQLite 3.43, delete a row without
# being handed its old text.
SQLITE_SCHEMA = (
    "CREATE VIRTUAL TABLE post_search USING fts5("
    "title, body, excerpt, feature_text, terms, tokenize='trigram')",
    # The index's own trigrams, in order: what a short word is looked up through.
    "CREATE VIRTUAL TABLE post_search_vocab USING fts5vocab(post_search, 'row')",
    # Titles alone: "title matches first" looks there, where a common word's postings are
    # a title's worth per post, not a body's (a column filter on post_search reads them
    # all: about 56 ms for three common words at 100,000 posts).
    "CREATE VIRTUAL TABLE post_search_title USING fts5(title, tokenize='trigram')",
)


def _quoted(term: str) -> str:
    """`term` as an FTS5 string: every character literal, quotes doubled."""
    return '"' + term.replace('"', '""') + '"'


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqliteSearchIndex:
    """FTS5 with the trigram tokenizer: any substring of three or more characters is found
    through the index, whatever the language; shorter words through the trigrams that
    start with them."""

    def store(self, session: Session, rows: Sequence[IndexedPost]) -> None:
        self.forget(session, [row.post_id for row in rows])
        if rows:
            session.execute(
                text(
                    "INSERT INTO post_search (rowid, title, body, excerpt, feature_text, terms) "
                    "VALUES (:post_id, :title, :body, :excerpt, :feature_text, :terms)"
                ),
                [asdict(row) for row in rows],
            )
            session.execute(
                text("INSERT INTO post_search_title (rowid, title) VALUES (:post_id, :title)"),
                [{"post_id": row.post_id, "title": row.title} for row in rows],
            )

    def forget(self, session: Session, post_ids: Iterable[int]) -> None:
        ids = [{"post_id": post_id} for post_id in post_ids]
        if ids:
            session.execute(text("DELETE FROM post_search WHERE rowid = :post_id"), ids)
            session.execute(text("DELETE FROM post_search_title WHERE rowid = :post_id"), ids)

    def set_terms(self, session: Session, terms: dict[int, str]) -> None:
        if terms:
            session.execute(
                text("UPDATE post_search SET terms = :terms WHERE rowid = :post_id"),
                [{"post_id": post_id, "terms": names} for post_id, names in terms.items()],
            )

    def short_term_trigrams(self, session: Session, term: str) -> list[str] | None:
        """The index's trigrams that start with `term` (shorter than a trigram); None when
        there are more than MAX_TRIGRAMS_PER_WORD. The tokenizer folds case: so does this."""
        prefix = term.lower()
        kept = changes.kept_per_change("search.short_words", lambda _now: {})
        if prefix in kept:
            return kept[prefix]  # type: ignore[no-any-return]
        rows = session.execute(
            text(
                "SELECT term FROM post_search_vocab WHERE term >= :low AND term < :high "
                "LIMIT :limit"
            ),
            {"low": prefix, "high": prefix + "\U0010ffff", "limit": MAX_TRIGRAMS_PER_WORD + 1},
        ).scalars()
        found: list[str] | None = list(rows)
        if len(found) > MAX_TRIGRAMS_PER_WORD:  # type: ignore[arg-type]
            found = None
        if len(kept) < MAX_SHORT_WORDS_KEPT:
            kept[prefix] = found
        return found

    def _bm25_affordable(self, session: Session, phrases: Sequence[str]) -> bool:
        """Whether every phrase is in fewer than MAX_POSTS_FOR_BM25 posts (each probe
        stops there: a millisecond or so)."""
        probe = text(
            "SELECT count(*) FROM (SELECT 1 FROM post_search WHERE post_search MATCH :phrase "
            "LIMIT :most)"
        )
        return all(
            session.execute(probe, {"phrase": phrase, "most": MAX_POSTS_FOR_BM25}).scalar_one()
            < MAX_POSTS_FOR_BM25
            for phrase in phrases
        )

    def matching_ids(
        self, session: Session, query: SearchQuery, now: datetime, limit: int, offset: int
    ) -> list[int]:
        """Ids of listed posts with every term: titles with all of them first, then by
        bm25 (where every word is rarer than MAX_POSTS_FOR_BM25), then newest first.

        Ranked among the CANDIDATES newest posts that match (by id, which follows the
        order posts were written), with those whose title matches looked up apart: a common
        word matches most of a large archive, and scoring and sorting every match would
        cost time in proportion to the archive (over a second at 100,000 posts). The index
        hands matches out newest first and stops at the bound, so a search costs about the
        same at any size.
        """
        values: dict[str, Any] = {"now": now, "limit": limit, "offset": offset,
                                  "candidates": max(CANDIDATES, offset + limit)}  # fmt: skip
        phrases: list[str] = []
        scanned: list[str] = []  # words too common to look up by trigram: LIKE, all columns
        in_title: list[str] = []
        for number, term in enumerate(query.terms):
            values[f"like{number}"] = _like_pattern(term)
            in_title.append(f"title LIKE :like{number} ESCAPE '\\'")
            if len(term) >= 3:
                phrases.append(_quoted(term))
                continue
            trigrams = self.short_term_trigrams(session, term)
            if trigrams is None:
                scanned.append(
                    "("
                    + " OR ".join(
                        f"{name} LIKE :like{number} ESCAPE '\\'" for name in _INDEX_COLUMNS
                    )
                    + ")"  # fmt: skip
                )
            elif not trigrams:
                return []  # no post has it
            else:
                phrases.append("(" + " OR ".join(_quoted(trigram) for trigram in trigrams) + ")")
        weights = ", ".join(str(weight) for weight in _BM25_WEIGHTS)
        ranked = bool(phrases) and self._bm25_affordable(session, phrases)
        score = f"bm25(post_search, {weights})" if ranked else "0"
        found = " AND ".join(["post_search MATCH :match"] * bool(phrases) + scanned)
        values["match"] = " AND ".join(phrases)
        title_first = " AND ".join(in_title)
        # Whether the title has every word: by LIKE only when no word could be looked up
        # (reading each candidate's title costs more than the rest of the search) ...
        tier = f"CASE WHEN {title_first} THEN 0 ELSE 1 END"
        titled = ""
        if phrases:
            # ... else through the index, as a search of titles of its own, so that an old
            # post whose title matches is not lost behind the bound either.
            tier = "1"
            # Words only a scan can find must be in the title too (then the post has them).
            also = f"AND {title_first}" if scanned else ""
            titled = f"""
            UNION
            SELECT id, 0 AS tier, 0 AS score FROM (
                SELECT rowid AS id FROM post_search_title
                WHERE post_search_title MATCH :match {also}
                ORDER BY rowid DESC LIMIT :candidates
            )"""
        statement = f"""
            WITH candidates AS (
                SELECT id, min(tier) AS tier, min(score) AS score FROM (
                    SELECT id, tier, score FROM (
                        SELECT rowid AS id, {tier} AS tier, {score} AS score
                        FROM post_search WHERE {found}
                        ORDER BY rowid DESC LIMIT :candidates
                    ){titled}
                ) GROUP BY id
            )
            SELECT posts.id FROM candidates JOIN posts ON posts.id = candidates.id
            WHERE +posts.status IN ({", ".join(f"'{s}'" for s in SEARCHABLE_STATUSES)})
              AND +posts.published_at <= :now AND posts.deleted_at IS NULL
            ORDER BY candidates.tier, candidates.score, posts.published_at DESC, posts.id DESC
            LIMIT :limit OFFSET :offset
        """
        bound = text(statement).bindparams(bindparam("now", type_=UTCDateTime()))
        return list(session.execute(bound, values).scalars())

    def texts(self, session: Session, post_ids: Sequence[int]) -> dict[int, IndexedPost]:
        rows = session.execute(
            select(_fts.c.rowid, *(_fts.c[name] for name in _INDEX_COLUMNS)).where(
                _fts.c.rowid.in_(list(post_ids))
            )
        )
        return {row[0]: IndexedPost(*row) for row in rows}


_INDEXES: dict[str, SearchIndex] = {"sqlite": SqliteSearchIndex()}


def search_index(session: Session | None = None) -> SearchIndex | None:
    """The search index of the session's database; None where there is none (a database
    other than SQLite and PostgreSQL): saves go on, the search page says so."""
    session = session or db.session()
    return _INDEXES.get(session.get_bind().dialect.name)


@event.listens_for(db.metadata, "after_create")
def _create_sqlite_index(_metadata: Any, connection: Any, **_kw: Any) -> None:
    """create_all() (tests, and databases made without Alembic) builds the index too."""
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_SCHEMA:
            name = statement.split()[3]  # CREATE VIRTUAL TABLE <name> ...
            exists = connection.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = ?", (name,)
            ).first()
            if not exists:
                connection.execute(DDL(statement))


# --- keeping it in step (inside `writing()`) -------------------------------------------


def index_post(post: Post, body_text: str) -> None:
    """Put `post` in the index as it is now, or take it out when readers cannot find it.
    `body_text` is html_to_text(post.body_html), worked out before the write lock."""
    index = search_index()
    if index is None:
        return
    if is_searchable(post):
        index.store(db.session(), [IndexedPost.of(post, body_text)])
    else:
        index.forget(db.session(), [post.id])


def forget_posts(post_ids: Iterable[int]) -> None:
    """Take these posts out of the index (trashed, deleted)."""
    index = search_index()
    if index is not None:
        index.forget(db.session(), post_ids)


def reindex_posts(post_ids: Iterable[int]) -> None:
    """Index these posts again from what the database holds (a post back from the trash)."""
    ids = list(post_ids)
    index = search_index()
    if index is None or not ids:
        return
    posts = db.session.execute(select(Post).where(Post.id.in_(ids))).scalars().all()
    for post in posts:
        index_post(post, html_to_text(post.body_html))
    index.forget(db.session(), set(ids) - {post.id for post in posts})


def term_names(post_ids: Iterable[int]) -> dict[int, str]:
    """Each post's category and tag names as the index keeps them, in two queries."""
    ids = list(post_ids)
    names: dict[int, list[str]] = {post_id: [] for post_id in ids}
    for link, model, key in (
        (post_categories, Category, post_categories.c.category_id),
        (post_tags, Tag, post_tags.c.tag_id),
    ):
        rows = db.session.execute(
            select(link.c.post_id, model.name)
            .join(model, model.id == key)
            .where(link.c.post_id.in_(ids))
            .order_by(link.c.post_id, model.name)
        )
        for post_id, name in rows:
            names[post_id].append(name)
    return {post_id: indexed_text(" ".join(found)) for post_id, found in names.items()}


def refresh_terms(post_ids: Iterable[int]) -> None:
    """After a category or tag was renamed, merged or deleted: the index's names of these
    posts. Their other text is unchanged, so no body is read."""
    index = search_index()
    ids = list(post_ids)
    if index is not None and ids:
        index.set_terms(db.session(), term_names(ids))


# --- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    """One post found: where it is, and what to show of it (escaped, matches marked)."""

    slug: str
    published_at: datetime
    title: Markup
    passage: Markup


@dataclass(frozen=True)
class SearchPage:
    query: SearchQuery
    results: list[SearchResult]
    page: int
    has_next: bool
    # The index is not available on this database (see search_index).
    unavailable: bool = False

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def search_posts(raw_query: str, page: int, per_page: int, now: datetime) -> SearchPage:
    """One page of the public posts that have every word of `raw_query`, in three queries
    at most (short words' trigrams, the ids in order, their text; PostgreSQL's ids take up
    to four: see PostgresSearchIndex.matching_ids)."""
    query = SearchQuery.parse(raw_query)
    index = search_index()
    if index is None:
        return SearchPage(query, [], page, False, unavailable=True)
    if not query or not 1 <= page <= MAX_PAGE:
        return SearchPage(query, [], page, False)
    session = db.session()
    ids = index.matching_ids(session, query, now, per_page + 1, (page - 1) * per_page)
    shown = ids[:per_page]
    texts = index.texts(session, shown)
    posts = {
        row.id: row
        for row in session.execute(
            select(Post.id, Post.slug, Post.title, Post.published_at).where(Post.id.in_(shown))
        )
    }
    marker = term_marker(query.terms)
    results = [
        SearchResult(
            slug=posts[post_id].slug,
            published_at=posts[post_id].published_at,
            title=highlighted(posts[post_id].title, marker),
            passage=passage(texts[post_id], marker),
        )
        for post_id in shown
        if post_id in posts and post_id in texts
    ]
    return SearchPage(query, results, page, has_next=len(ids) > per_page)


def term_marker(terms: Sequence[str]) -> re.Pattern[str]:
    """Finds any of `terms` (literally, any case), longest first, in linear time: the
    alternatives are plain strings, at most MAX_TERMS of at most MAX_QUERY_CHARS."""
    ordered = sorted(terms, key=len, reverse=True)
    return re.compile("|".join(re.escape(term) for term in ordered), re.IGNORECASE)


def highlighted(value: str, marker: re.Pattern[str]) -> Markup:
    """`value` escaped, each match in <mark>."""
    pieces: list[Markup] = []
    position = 0
    for found in marker.finditer(value):
        pieces += [escape(value[position : found.start()]), Markup("<mark>"),
                   escape(found.group()), Markup("</mark>")]  # fmt: skip
        position = found.end()
    pieces.append(escape(value[position:]))
    return Markup("").join(pieces)


def passage(row: IndexedPost, marker: re.Pattern[str], width: int = PASSAGE_CHARS) -> Markup:
    """The part of the post around its first match (body, then excerpt, then feature text),
    with the matches marked; the post's opening when only its title or names match."""
    texts = [shown_text(value) for value in (row.body, row.excerpt, row.feature_text)]
    for value in texts:
        found = marker.search(value)
        if found is None:
            continue
        start = max(0, found.start() - width // 3)
        # Begin at a word where one is near, rather than inside one.
        space = value.find(" ", start, found.start())
        if start > 0 and space != -1:
            start = space + 1
        end = min(len(value), start + width)
        before = "… " if start > 0 else ""
        after = " …" if end < len(value) else ""
        return Markup(before) + highlighted(value[start:end], marker) + Markup(after)
    opening = next((value for value in (texts[1], texts[2], texts[0]) if value), "")
    cut = opening[:width]
    return escape(cut) + (Markup(" …") if len(opening) > width else Markup(""))


# PostgreSQL's index uses the names above (a cycle Python allows: they exist by now).
from .search_postgres import PostgresSearchIndex  # noqa: E402

_INDEXES["postgresql"] = PostgresSearchIndex()
