"""Search on PostgreSQL: the pg_trgm extension's trigram indexes behind `SearchIndex`.

Why pg_trgm and not PostgreSQL's own full-text search (tsvector): full-text search splits
text into words with a parser and a dictionary, and PostgreSQL ships none for Korean, where a
noun and its particle are written together ("대통령실은"): "통령실" would never match. The
search must also mean on PostgreSQL what it means on SQLite's FTS5 trigram index: a word is
found anywhere inside the text, in any case. pg_trgm gives exactly that: a GIN index of every
three-character piece (gin_trgm_ops), which `LIKE '%word%'` uses to find the rows that may
match; PostgreSQL then checks each of them with LIKE itself (the "recheck"), so what is found
never depends on the index.

The same table as SQLite's, one row per post readers can find (`post_search`: title, body
text, excerpt, feature text, category and tag names, each ending in search.PADDING), plus the
same text case-folded by Python, which is what words are matched against (see
POSTGRES_SCHEMA), with three indexes: one over the whole post, one over titles alone ("title
matches first" looks there, so an old post whose title matches is never lost behind the
CANDIDATES bound), and one over the post's pairs of characters, for words of one or two
characters, which have no trigram of their own (Korean words are often two syllables: 벚꽃,
정부); SQLite looks those up through the index's trigrams that start with them, a list
pg_trgm does not keep (see `pairs`).

What the index cannot do, and how the cost stays bounded:
- The index hands its matches over in no order, and every one is rechecked before the newest
  can be kept: a word in most posts would cost a recheck of most of the archive. So a search
  first judges from the newest SAMPLE posts how common its words are, and reads common ones
  newest first, stopping at the bound, as SQLite's index does (see _newest_first).
- A word of one or two characters ("벚꽃", "AI") is found through the index of pairs, or
  when common read newest first like any common word. Without that index, a rare one would
  read every post's text: 160 ms at 10,000 posts and 1.9 s at 100,000 on the test machine,
  against about a millisecond through it. The pairs cost storage: the column is about twice
  the folded text before compression, its index about as big as the whole-post one.
- pg_trgm takes trigrams only from characters the database's locale (LC_CTYPE) calls letters
  or digits. Under C.UTF-8 or any UTF-8 locale of glibc, Hangul is one (show_trgm('대통령실')
  gives five trigrams); a database made with LC_CTYPE=C gets none for Korean, and then a
  Korean search reads every post (correct still, because of the recheck, only slower). Case
  does not depend on the locale: Python folds it before the text is stored or looked for.

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
# Besides the fields as shown (for passages), each row keeps them case-folded by Python
# (`folded`: the five fields joined by U+0001, which no query word holds; `folded_title`), so
# that words are matched with LIKE, not ILIKE: ILIKE lowers every text it checks, which made
# checking a post about six times slower, and folds case by the database's locale (under C,
# ASCII letters only), where Python folds every script the same everywhere.
POSTGRES_SCHEMA = (
    # A trusted extension since PostgreSQL 13: the database's owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE IF NOT EXISTS post_search ("
    " post_id integer PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,"
    " title text NOT NULL, body text NOT NULL, excerpt text NOT NULL,"
    " feature_text text NOT NULL, terms text NOT NULL,"
    " folded_title text NOT NULL, folded text NOT NULL, pairs text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS post_search_folded ON post_search USING gin (folded gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS post_search_folded_title ON post_search "
    "USING gin (folded_title gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS post_search_pairs ON post_search USING gin (pairs gin_trgm_ops)",
)
FIELD_SEPARATOR = "\x01"

# Weights per field, in search._INDEX_COLUMNS order (as SQLite's bm25 weights).
_WEIGHTS = dict(zip(search._INDEX_COLUMNS, search._BM25_WEIGHTS, strict=True))
# bm25's k1: how soon more of the same word stops counting.
_SATURATION = 1.2
# How many of the newest posts are read to judge how common the words are (see _newest_first).
SAMPLE = 100


def folded(value: str) -> str:
    """`value` as it is matched: lower case (Python's, for every script), no separator."""
    return value.lower().replace(FIELD_SEPARATOR, " ")


def pairs(value: str) -> str:
    """A folded field as the words of one or two characters it holds: every two characters
    side by side within a word, and each word's last character, each a word of its own
    (" 벚꽃 꽃이 이 "). pg_trgm indexes a short word by the trigrams of its padding
    (" 벚꽃", "벚꽃 "), so `pairs LIKE '% 벚꽃 %'` finds through the index exactly the posts
    whose text has 벚꽃, and `LIKE '% 꽃%'` those with 꽃."""
    words: list[str] = []
    for word in value.split():
        words += [word[start : start + 2] for start in range(len(word) - 1)]
        words.append(word[-1])
    return " " + " ".join(words) + " "


def folded_row(row: IndexedPost) -> dict[str, Any]:
    """`row`'s values for post_search, the folded ones too."""
    fields = [folded(getattr(row, name)) for name in search._INDEX_COLUMNS]
    return {
        **asdict(row),
        "folded_title": fields[0],
        "folded": FIELD_SEPARATOR.join(fields),
        "pairs": FIELD_SEPARATOR.join(pairs(field) for field in fields),
    }


def _pair_pattern(word: str) -> str:
    """How `pairs` holds a word of one or two characters (see pairs)."""
    escaped = search._like_pattern(word)[1:-1]
    return f"% {escaped} %" if len(word) == 2 else f"% {escaped}%"


# For one statement (inside the transaction): the plans that read posts in no useful order.
_PLANNER = (
    "SELECT set_config(name, {value}, true) FROM pg_settings "
    "WHERE name IN ('enable_seqscan', 'enable_bitmapscan')"
)


def _condition(column: str, number: int) -> str:
    return f"{column} LIKE :like{number} ESCAPE '\\'"


class PostgresSearchIndex:
    """pg_trgm's GIN indexes: any substring of three or more characters is looked up through
    the index, whatever the language; shorter words by reading the newest posts."""

    def store(self, session: Session, rows: Sequence[IndexedPost]) -> None:
        if rows:
            names = [*search._INDEX_COLUMNS, "folded_title", "folded", "pairs"]
            session.execute(
                text(
                    f"INSERT INTO post_search (post_id, {', '.join(names)}) "
                    f"VALUES (:post_id, {', '.join(':' + name for name in names)}) "
                    "ON CONFLICT (post_id) DO UPDATE SET "
                    + ", ".join(f"{name} = excluded.{name}" for name in names)
                ),
                [folded_row(row) for row in rows],
            )

    def forget(self, session: Session, post_ids: Iterable[int]) -> None:
        ids = list(post_ids)
        if ids:
            session.execute(text("DELETE FROM post_search WHERE post_id = ANY(:ids)"), {"ids": ids})

    def set_terms(self, session: Session, terms: dict[int, str]) -> None:
        if terms:
            # The names are the last of the folded fields: what follows the fourth separator.
            session.execute(
                text(
                    "UPDATE post_search SET terms = :terms, folded = left(folded, "
                    "length(folded) - length(split_part(folded, chr(1), 5))) || :folded_terms, "
                    "pairs = left(pairs, length(pairs) - length(split_part(pairs, chr(1), 5))) "
                    "|| :pair_terms WHERE post_id = :post_id"
                ),
                [
                    {
                        "post_id": post_id,
                        "terms": names,
                        "folded_terms": folded(names),
                        "pair_terms": pairs(folded(names)),
                    }
                    for post_id, names in terms.items()
                ],
            )

    def _probe(
        self, session: Session, found: str, in_title: str | None, values: dict[str, Any]
    ) -> tuple[float, float, list[int] | None]:
        """How many of the SAMPLE newest posts have every word, how many posts there are
        (the planner's count), and with `in_title` the ids of the CANDIDATES newest posts
        whose title has every word: looked up here, through the titles' index, because the
        search that reads newest first cannot use it (see matching_ids)."""
        titles = (
            f"ARRAY(SELECT post_id FROM post_search WHERE {in_title} "
            "ORDER BY post_id DESC LIMIT :candidates)"
            if in_title
            else "NULL"
        )
        hits, size, titled = session.execute(
            text(
                "SELECT (SELECT count(*) FROM (SELECT folded FROM post_search "
                f"ORDER BY post_id DESC LIMIT {SAMPLE}) newest WHERE {found}), "
                "(SELECT greatest(reltuples, 0) FROM pg_class "
                f"WHERE oid = 'post_search'::regclass), {titles}"
            ),
            values,
        ).one()
        return hits / SAMPLE, size, titled

    def _newest_first(self, share: float, size: float, fetch: int) -> bool:
        """Whether reading posts newest first until `fetch` match costs less than checking
        every post the index finds: the index hands its matches over in no order, and each
        is checked (LIKE) before the newest can be kept. Words in a share d of N posts cost
        `fetch / d` posts read newest first, or `d * N` checked through the index; d is
        judged from the SAMPLE newest posts."""
        return share > 0 and fetch / share < share * max(size, SAMPLE)

    def matching_ids(
        self, session: Session, query: search.SearchQuery, now: datetime, limit: int, offset: int
    ) -> list[int]:
        """Ids of listed posts with every term: titles with all of them first, then by
        relevance (when fewer than MAX_POSTS_FOR_BM25 posts match), then newest first.

        As on SQLite, only the CANDIDATES newest matches are ranked, plus every post whose
        title has all the words (looked up apart, through the titles' index). The matches
        come from the index, or for common and short words from reading posts newest first
        until enough match (see _newest_first). Up to four statements: the probe, and the
        planner's settings set and reset around the search when it reads newest first.
        """
        candidates = max(search.CANDIDATES, offset + limit)
        most = search.MAX_POSTS_FOR_BM25
        values: dict[str, Any] = {
            "now": now, "limit": limit, "offset": offset, "candidates": candidates,
            # Read up to this many matches: enough to tell whether fewer than `most` match.
            "fetch": max(candidates, most), "most": most,
        }  # fmt: skip
        checked: list[str] = []  # every word in the post's text
        looked_up: list[str] = []  # the same, as the indexes can find it
        in_title: list[str] = []
        scores: list[str] = []
        for number, term in enumerate(query.terms):
            word = folded(term)
            values[f"like{number}"] = search._like_pattern(word)
            values[f"word{number}"] = word
            values[f"bytes{number}"] = len(word.encode())
            checked.append(_condition("folded", number))
            in_title.append(_condition("folded_title", number))
            if len(word) >= 3:
                looked_up.append(checked[-1])
            else:
                # No trigram of its own: the index of pairs finds it (see pairs).
                values[f"pair{number}"] = _pair_pattern(word)
                looked_up.append(f"pairs LIKE :pair{number} ESCAPE '\\'")
            for name, weight in _WEIGHTS.items():
                # How many times the word is in the field, saturated.
                count = (
                    f"((octet_length(fields.{name}) - octet_length(replace(fields.{name}, "
                    f"CAST(:word{number} AS text), ''))) / CAST(:bytes{number} AS float))"
                )
                scores.append(f"{weight} * {count} / ({count} + {_SATURATION})")
        fields = ", ".join(
            f"split_part(folded, chr(1), {field}) AS {name}"
            for field, name in enumerate(_WEIGHTS, start=1)
        )
        # With a word of three characters or more, the titles' index finds the title
        # matches, in the probe; a query of only shorter words looks for them below.
        long_words = any(len(term) >= 3 for term in query.terms)
        share, size, titled_ids = self._probe(
            session, " AND ".join(checked), " AND ".join(in_title) if long_words else None, values
        )
        newest_first = self._newest_first(share, size, values["fetch"])
        # Read newest first, each post's text is checked; else the indexes find the posts
        # (titles among them, so the title branch is given the words too).
        found = checked if newest_first else looked_up
        titled = f"""
                SELECT post_id, 0 AS tier FROM (
                    SELECT post_id FROM post_search
                    WHERE {" AND ".join(in_title if newest_first else [*in_title, *looked_up])}
                    ORDER BY post_id DESC LIMIT :candidates
                ) titled"""
        if titled_ids is not None:
            values["titled"] = titled_ids
            titled = "SELECT unnest(CAST(:titled AS integer[])) AS post_id, 0 AS tier"
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
                {titled}
            ), best AS (
                SELECT post_id, min(tier) AS tier FROM kept GROUP BY post_id
            ), ranked AS (
                -- The score is worked out (each field cut out once) only when it is used.
                SELECT best.post_id, best.tier,
                       CASE WHEN (SELECT count(*) FROM found) < :most THEN (
                           SELECT {" + ".join(scores)} FROM (
                               SELECT {fields} FROM post_search
                               WHERE post_search.post_id = best.post_id OFFSET 0
                           ) fields
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
        if not newest_first:
            return list(session.execute(bound, values).scalars())
        # Read newest first and stop at `fetch` matches: without statistics of the texts the
        # planner cannot tell that a word is common, so the other ways (a bitmap of every
        # match, or reading every post and sorting) are switched off for this statement.
        # The settings are the transaction's own: a failure rolls them back with it (and a
        # reset in a failed transaction would only hide the error).
        session.execute(text(_PLANNER.format(value="'off'")))
        found = list(session.execute(bound, values).scalars())
        session.execute(text(_PLANNER.format(value="reset_val")))
        return found

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
