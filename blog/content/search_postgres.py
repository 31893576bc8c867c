"""Search on PostgreSQL: the pg_trgm extension's trigram indexes behind `SearchIndex`.

Why pg_trgm and not PostgreSQL's own full-text search (tsvector): full-text search splits
text into words with a parser and a dictionary, and PostgreSQL ships none for Korean, where a
noun and its particle are written together ("대통령실은"): "통령실" would never match. The
search must also mean on PostgreSQL what it means on SQLite's FTS5 trigram index: a word is
found anywhere inside the text, in any case. pg_trgm gives exactly that: a GIN index of every
three-character piece (gin_trgm_ops), which `ILIKE '%word%'` uses to find the rows that may
match; PostgreSQL then checks each of them with ILIKE itself (the "recheck"), so what is found
never depends on the index.

The same table as SQLite's, one row per post readers can find (`post_search`: title, body
text, excerpt, feature text, category and tag names, each ending in search.PADDING), with two
indexes: one over the whole post, one over titles alone ("title matches first" looks there,
so an old post whose title matches is never lost behind the CANDIDATES bound).

What the index cannot do, and how the cost stays bounded:
- A word of one or two characters ("벚꽃", "AI") has no trigram, so no index can find it:
  such words are looked for by reading the posts newest first until CANDIDATES match (LIMIT),
  as SQLite's bound does. A common short word stops early; a rare one, when it is the only
  kind of word in the query, reads every post's text (measured in the branch's notes: tens of
  milliseconds at 10,000 posts). With a longer word beside it, the index narrows the posts
  first and the short word is only checked on those.
- pg_trgm takes trigrams only from characters the database's locale (LC_CTYPE) calls letters
  or digits. Under C.UTF-8 or any UTF-8 locale of glibc, Hangul is one (show_trgm('대통령실')
  gives five trigrams); a database made with LC_CTYPE=C gets none for Korean, and then a
  Korean search reads every post (correct still, because of the recheck, only slower). Case is
  folded by the locale too: under C, ILIKE folds ASCII letters only.

Relevance (where SQLite has bm25): each word's count in each field, weighted as SQLite weighs
the columns (title 10, body 1, excerpt 3, feature text 3, names 5) and saturated as bm25 does
(count / (count + 1.2)), so a word repeated down a long body does not outrank it in a title or
tag. pg_trgm's own similarity() and word_similarity() say how much of a word a text has,
which for a substring search is "all of it" in every match: they cannot order matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, bindparam, event, text
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import UTCDateTime
from . import search
from .search import IndexedPost

# The PostgreSQL schema (the migration that adds it keeps its own copy, as migrations do).
# The whole-post index is over the fields joined: each ends in two spaces and no query word
# holds two spaces in a row, so a match can never run from one field into the next.
DOCUMENT = "(title || body || excerpt || feature_text || terms)"
POSTGRES_SCHEMA = (
    # A trusted extension since PostgreSQL 13: the database's owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE IF NOT EXISTS post_search ("
    " post_id integer PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,"
    " title text NOT NULL, body text NOT NULL, excerpt text NOT NULL,"
    " feature_text text NOT NULL, terms text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS post_search_document ON post_search "
    f"USING gin ({DOCUMENT} gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS post_search_title ON post_search USING gin (title gin_trgm_ops)",
)

# Weights per field, in search._INDEX_COLUMNS order (as SQLite's bm25 weights).
_WEIGHTS = dict(zip(search._INDEX_COLUMNS, search._BM25_WEIGHTS, strict=True))
# bm25's k1: how soon more of the same word stops counting.
_SATURATION = 1.2


def _condition(column: str, number: int) -> str:
    return f"{column} ILIKE :like{number} ESCAPE '\\'"


class PostgresSearchIndex:
    """pg_trgm's GIN indexes: any substring of three or more characters is looked up through
    the index, whatever the language; shorter words by reading the newest posts."""

    def store(self, session: Session, rows: Sequence[IndexedPost]) -> None:
        if rows:
            session.execute(
                text(
                    "INSERT INTO post_search (post_id, title, body, excerpt, feature_text, terms) "
                    "VALUES (:post_id, :title, :body, :excerpt, :feature_text, :terms) "
                    "ON CONFLICT (post_id) DO UPDATE SET title = excluded.title, "
                    "body = excluded.body, excerpt = excluded.excerpt, "
                    "feature_text = excluded.feature_text, terms = excluded.terms"
                ),
                [asdict(row) for row in rows],
            )

    def forget(self, session: Session, post_ids: Iterable[int]) -> None:
        ids = list(post_ids)
        if ids:
            session.execute(text("DELETE FROM post_search WHERE post_id = ANY(:ids)"), {"ids": ids})

    def set_terms(self, session: Session, terms: dict[int, str]) -> None:
        if terms:
            session.execute(
                text("UPDATE post_search SET terms = :terms WHERE post_id = :post_id"),
                [{"post_id": post_id, "terms": names} for post_id, names in terms.items()],
            )

    def matching_ids(
        self, session: Session, query: search.SearchQuery, now: datetime, limit: int, offset: int
    ) -> list[int]:
        """Ids of listed posts with every term: titles with all of them first, then by
        relevance (when fewer than MAX_POSTS_FOR_BM25 posts match), then newest first.

        As on SQLite, only the CANDIDATES newest matches are ranked, plus every post whose
        title has all the words (looked up apart, through the titles' index): the posts are
        read newest first and the reading stops at the bound.
        """
        candidates = max(search.CANDIDATES, offset + limit)
        most = search.MAX_POSTS_FOR_BM25
        values: dict[str, Any] = {
            "now": now, "limit": limit, "offset": offset, "candidates": candidates,
            # Read up to this many matches: enough to tell whether fewer than `most` match.
            "fetch": max(candidates, most), "most": most,
        }  # fmt: skip
        found: list[str] = []
        in_title: list[str] = []
        scores: list[str] = []
        for number, term in enumerate(query.terms):
            values[f"like{number}"] = search._like_pattern(term)
            values[f"word{number}"] = term
            values[f"length{number}"] = len(term)
            in_title.append(_condition("title", number))
            if len(term) >= 3:
                # The expression the index is built on: the index finds the candidates.
                found.append(_condition(DOCUMENT, number))
            else:
                # No trigram to look up: checked field by field on the posts read.
                found.append("(" + " OR ".join(_condition(name, number) for name in _WEIGHTS) + ")")
            for name, weight in _WEIGHTS.items():
                # How many times the word is in the field, saturated.
                count = (
                    f"((length(lowered.{name}) - length(replace(lowered.{name}, "
                    f"lower(CAST(:word{number} AS text)), ''))) / CAST(:length{number} AS float))"
                )
                scores.append(f"{weight} * {count} / ({count} + {_SATURATION})")
        lowered = ", ".join(f"lower({name}) AS {name}" for name in _WEIGHTS)
        statuses = ", ".join(f"'{status}'" for status in search.SEARCHABLE_STATUSES)
        statement = f"""
            WITH found AS MATERIALIZED (
                SELECT post_id FROM post_search WHERE {" AND ".join(found)}
                ORDER BY post_id DESC LIMIT :fetch
            ), kept AS (
                SELECT post_id, 1 AS tier FROM (
                    SELECT post_id FROM found ORDER BY post_id DESC LIMIT :candidates
                ) newest
                UNION ALL
                SELECT post_id, 0 AS tier FROM (
                    SELECT post_id FROM post_search WHERE {" AND ".join(in_title)}
                    ORDER BY post_id DESC LIMIT :candidates
                ) titled
            ), best AS (
                SELECT post_id, min(tier) AS tier FROM kept GROUP BY post_id
            ), ranked AS (
                -- The score is worked out (each field lowered once) only when it is used.
                SELECT best.post_id, best.tier,
                       CASE WHEN (SELECT count(*) FROM found) < :most THEN (
                           SELECT {" + ".join(scores)} FROM (
                               SELECT {lowered} FROM post_search
                               WHERE post_search.post_id = best.post_id OFFSET 0
                           ) lowered
                       ) ELSE 0 END AS score
                FROM best
            )
            SELECT posts.id FROM ranked JOIN posts ON posts.id = ranked.post_id
            WHERE posts.status IN ({statuses}) AND posts.published_at <= :now
              AND posts.deleted_at IS NULL
            ORDER BY ranked.tier, ranked.score DESC, posts.published_at DESC, posts.id DESC
            LIMIT :limit OFFSET :offset
        """
        bound = text(statement).bindparams(bindparam("now", type_=UTCDateTime()))
        return list(session.execute(bound, values).scalars())

    def texts(self, session: Session, post_ids: Sequence[int]) -> dict[int, IndexedPost]:
        rows = session.execute(
            text(
                "SELECT post_id, title, body, excerpt, feature_text, terms FROM post_search "
                "WHERE post_id = ANY(:ids)"
            ),
            {"ids": list(post_ids)},
        )
        return {row[0]: search.IndexedPost(*row) for row in rows}


@event.listens_for(db.metadata, "after_create")
def _create_postgres_index(_metadata: Any, connection: Any, **_kw: Any) -> None:
    """create_all() (tests, and databases made without Alembic) builds the index too."""
    if connection.dialect.name == "postgresql":
        for statement in POSTGRES_SCHEMA:
            connection.execute(DDL(statement))


@event.listens_for(db.metadata, "before_drop")
def _drop_postgres_index(_metadata: Any, connection: Any, **_kw: Any) -> None:
    """drop_all(): the index refers to posts, so it goes first."""
    if connection.dialect.name == "postgresql":
        connection.execute(DDL("DROP TABLE IF EXISTS post_search"))
