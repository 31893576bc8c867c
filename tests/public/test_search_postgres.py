"""Search on PostgreSQL (pg_trgm): Korean gets trigrams under the test cluster's locale, case is
folded for every script, and the two ways of finding matches (through the index, or reading
the newest posts first) find the same posts in the same order. The behaviour every reader
sees is tested on both databases in test_search.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from blog.content import search, search_postgres, taxonomy
from blog.content.search_postgres import PostgresSearchIndex
from blog.extensions import db
from tests.conftest import MakePost, on_postgresql
from tests.public.test_search import titles


@pytest.fixture
def postgresql() -> None:
    if not on_postgresql():
        pytest.skip("pg_trgm is PostgreSQL's (run with --database postgresql)")


def test_accented_capitals_find_small_letters(client: FlaskClient, make_post: MakePost) -> None:
    make_post(title="학교", source="L'ÉCOLE DES BEAUX-ARTS")
    assert titles(client, "école") == ["학교"]


def test_a_renamed_term_is_found_by_its_new_short_name(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    """Renaming rewrites the names in every form the index keeps (on PostgreSQL: shown,
    folded and as pairs)."""
    make_post(title="분류 글", source="본문", tags=("옛것", "남음"))
    with app.app_context():
        tag = taxonomy.find_by_name("tag", "옛것")
        assert tag is not None
        taxonomy.rename_term(tag, "새꽃", None)
    assert titles(client, "옛것") == [] and titles(client, "옛") == []
    assert titles(client, "새꽃") == ["분류 글"] and titles(client, "남음") == ["분류 글"]
    assert titles(client, "본문") == ["분류 글"]


def test_short_words_are_kept_as_the_pairs_of_characters_of_each_word() -> None:
    assert search_postgres.pairs("벚꽃이 핀  ") == " 벚꽃 꽃이 이 핀 "
    assert search_postgres.pairs("  ") == "  "
    assert search_postgres._pair_pattern("벚꽃") == "% 벚꽃 %"
    assert search_postgres._pair_pattern("%") == "% \\%%"


@pytest.mark.usefixtures("postgresql")
def test_korean_text_gets_trigrams_under_the_databases_locale(app: Flask) -> None:
    """pg_trgm takes trigrams only from what LC_CTYPE calls letters: the test cluster's
    C.UTF-8 calls Hangul letters, so a Korean word is looked up through the index."""
    with app.app_context():
        trigrams = db.session.execute(text("SELECT show_trgm('대통령실')")).scalar_one()
        assert len(trigrams) == 5  # "  대", " 대통", "대통령", "통령실", "령실 "


@pytest.mark.usefixtures("postgresql")
def test_common_words_are_read_newest_first_and_rare_ones_through_the_index(
    app: Flask, make_post: MakePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "CANDIDATES", 3)
    monkeypatch.setattr(search, "MAX_POSTS_FOR_BM25", 3)
    monkeypatch.setattr(search_postgres, "SAMPLE", 10)
    for number in range(30):
        make_post(title=f"기사 {number}", source="대통령실 발표" + (" 반딧불이" * (number == 3)))
    with app.app_context():
        db.session.execute(text("ANALYZE post_search"))  # the archive's size, as autovacuum would

        def reads_newest_first(word: str) -> bool:
            index = PostgresSearchIndex()
            values = {"like0": f"%{word}%"}
            share, size, _ = index._probe(
                db.session(), search_postgres._condition("folded", 0), None, values
            )
            return index._newest_first(share, size, 3)

        assert reads_newest_first("대통령실")  # in every post: 3 read instead of 30 checked
        assert not reads_newest_first("반딧불이")  # in one post: the index finds it


@pytest.mark.usefixtures("postgresql")
@pytest.mark.parametrize(
    "query", ["반도체", "반도", "도", "반도체 수출", "수출 반", '"반도체 수출"', "export", "AI"]
)
def test_both_ways_of_finding_matches_agree(
    app: Flask, make_post: MakePost, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    monkeypatch.setattr(search, "CANDIDATES", 4)
    day = datetime(2024, 3, 1, tzinfo=UTC)
    make_post(title="반도체 첫 기사", source="AI 처음", published_at=day)
    for number in range(1, 9):
        words = "반도체 " * (9 - number) + ("수출 " if number % 2 else "export ") + "끝"
        make_post(title=f"본문 {number}", source=words, tags=("AI",) * (number == 5),
                  published_at=day + timedelta(days=number))  # fmt: skip
    shown = {}
    with app.app_context():
        for newest_first in (True, False):
            monkeypatch.setattr(
                PostgresSearchIndex, "_newest_first", lambda *_, way=newest_first: way
            )
            shown[newest_first] = [
                result.slug
                for page in (1, 2)
                for result in search.search_posts(query, page, 3, datetime.now(UTC)).results
            ]
    assert shown[True] == shown[False]
    assert shown[True]
