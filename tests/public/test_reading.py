"""Archives by year and month, the category and tag indexes, related posts, reading time and
dates written for the page's language."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from blog.content.settings import set_setting
from blog.database import writing
from blog.extensions import db
from blog.models import Post
from tests.conftest import MakePost

KST = timedelta(hours=9)
FUTURE = datetime(2099, 1, 1, tzinfo=UTC)


def _titles(html: str) -> list[str]:
    return re.findall(r'class="post-card-title"><a href="[^"]+">([^<]+)</a>', html)


def _trash(app: Flask, slug: str) -> None:
    with app.app_context(), writing():
        post = db.session.execute(select(Post).where(Post.slug == slug)).scalar_one()
        post.deleted_at = datetime(2024, 8, 2, tzinfo=UTC)


def _hidden_posts(app: Flask, make_post: MakePost, **fields: object) -> None:
    """A draft, a scheduled post, an unlisted post and a trashed one: never counted."""
    make_post(title="Draft", status="draft", **fields)
    make_post(title="Scheduled", status="scheduled", **{**fields, "published_at": FUTURE})
    make_post(title="Unlisted", status="unlisted", **fields)
    _trash(app, make_post(title="Trashed", **fields))


def test_a_month_follows_the_site_clock_not_utc(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    # 2024-07-31 23:30 in Seoul is 14:30 UTC the same day; 2024-08-01 00:30 in Seoul is
    # 2024-07-31 15:30 UTC, which UTC would call July.
    make_post(title="Late July", published_at=datetime(2024, 7, 31, 23, 30, tzinfo=UTC) - KST)
    make_post(title="Early August", published_at=datetime(2024, 8, 1, 0, 30, tzinfo=UTC) - KST)
    make_post(title="June", published_at=datetime(2024, 6, 30, 23, 59, tzinfo=UTC) - KST)
    assert _titles(client.get("/archive/2024/07").text) == ["Late July"]
    assert _titles(client.get("/archive/2024/08").text) == ["Early August"]
    assert _titles(client.get("/archive/2024").text) == ["Early August", "Late July", "June"]
    index = client.get("/archive").text
    assert re.findall(r'href="/archive/(\d{4}/\d{2})">([^<]+)</a>\s*<span class="term-count">'
                      r"([^<]+)</span>", index) == [
        ("2024/08", "August 2024", "1 post"), ("2024/07", "July 2024", "1 post"),
        ("2024/06", "June 2024", "1 post"),
    ]  # fmt: skip
    assert 'href="/archive/2024">2024</a>' in index


def test_a_year_starts_at_midnight_in_the_site_zone(
    client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="New year", published_at=datetime(2025, 1, 1, 0, 10, tzinfo=UTC) - KST)
    assert _titles(client.get("/archive/2025").text) == ["New year"]
    assert client.get("/archive/2024").status_code == 404


def test_archives_count_and_list_only_public_posts(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    july = datetime(2024, 7, 10, tzinfo=UTC)
    make_post(title="Public", published_at=july)
    _hidden_posts(app, make_post, published_at=july)
    assert _titles(client.get("/archive/2024/07").text) == ["Public"]
    assert _titles(client.get("/archive/2024").text) == ["Public"]
    index = client.get("/archive").text
    assert "2099" not in index
    assert index.count('class="term-count"') == 1 and "1 post" in index


def test_a_scheduled_post_is_not_in_the_archive_before_its_time(
    client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="Public", published_at=datetime(2024, 7, 10, tzinfo=UTC))
    make_post(title="Later", status="scheduled", published_at=FUTURE)
    assert "2099" not in client.get("/archive").text
    assert client.get("/archive/2099").status_code == 404
    assert client.get("/archive/2099/01").status_code == 404


def test_a_long_month_pages_with_the_list_cursor(client: FlaskClient, make_post: MakePost) -> None:
    for day in range(1, 6):
        make_post(title=f"Day {day}", published_at=datetime(2024, 7, day, 3, tzinfo=UTC))
    make_post(title="August", published_at=datetime(2024, 8, 2, 3, tzinfo=UTC))
    first = client.get("/archive/2024/07").text
    assert _titles(first) == ["Day 5", "Day 4", "Day 3"]  # POSTS_PER_PAGE is 3
    more = re.search(r'class="more-posts" href="(/archive/2024/07\?before=[0-9-]+)"', first)
    assert more is not None
    assert _titles(client.get(more.group(1)).text) == ["Day 2", "Day 1"]
    assert _titles(client.get("/archive/2024/07?page=2").text) == ["Day 2", "Day 1"]
    assert client.get("/archive/2024/07?page=3").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/archive/99999/13", "/archive/abc", "/archive/2024/13", "/archive/2024/00", "/archive/0000",
     "/archive/9999/12", "/archive/0001/01", "/archive/2024/7", "/archive/2024/07/01",
     "/archive/2024/%00", "/archive/" + "9" * 10_000, "/archive/2024/07?page=0",
     "/archive/2024/07?before=abc", "/archive/1999"],
)  # fmt: skip
def test_hostile_archive_paths_are_404(client: FlaskClient, make_post: MakePost, path: str) -> None:
    make_post(title="July", published_at=datetime(2024, 7, 10, tzinfo=UTC))
    assert client.get(path).status_code == 404


def test_category_and_tag_indexes_count_public_posts_only(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="One", categories=("국제",), tags=("외교", "미국"))
    make_post(title="Two", categories=("국제", "경제"), tags=("외교",))
    _hidden_posts(app, make_post, categories=("정치",), tags=("비밀",))
    make_post(title="Draft too", status="draft", categories=("국제",), tags=("외교",))
    pairs = r'<li><a href="/(?:category|tag)/[^"]+">([^<]+)</a>\s*<span class="term-count">([^<]+)'
    categories = client.get("/categories").text
    assert re.findall(pairs, categories) == [("경제", "1 post"), ("국제", "2 posts")]
    assert "정치" not in categories
    tags = client.get("/tags").text
    assert re.findall(pairs, tags) == [("#미국", "1 post"), ("#외교", "2 posts")]
    assert "비밀" not in tags


def test_public_pages_link_the_archive_and_indexes(
    client: FlaskClient, make_post: MakePost
) -> None:
    slug = make_post(title="Post")
    for page in ("/", f"/posts/{slug}", "/archive", "/tags"):
        html = client.get(page).text
        for path in ("/archive", "/categories", "/tags"):
            assert f'href="{path}"' in html, (page, path)


def test_related_posts_share_most_tags_first_then_newest(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    day = datetime(2024, 7, 1, tzinfo=UTC)
    slug = make_post(title="Here", tags=("a", "b", "c"), published_at=day)
    make_post(title="One old", tags=("a",), published_at=day - timedelta(days=9))
    make_post(title="Two", tags=("a", "b"), published_at=day - timedelta(days=5))
    make_post(title="One new", tags=("c",), published_at=day + timedelta(days=3))
    make_post(title="Three", tags=("a", "b", "c"), published_at=day - timedelta(days=20))
    make_post(title="None shared", tags=("z",), published_at=day)
    _hidden_posts(app, make_post, tags=("a", "b", "c"))
    html = client.get(f"/posts/{slug}").text
    related = html[html.index('class="related-posts"') :]
    titles = re.findall(r'<li><a href="/posts/[^"]+">([^<]+)</a></li>', related)
    assert titles == ["Three", "Two", "One new", "One old"]
    # Previous and next stay as they were: by date, not by tags.
    assert 'rel="prev" href="/posts/' in html and 'rel="next" href="/posts/' in html


def test_a_post_without_shared_tags_shows_no_related_posts(
    client: FlaskClient, make_post: MakePost
) -> None:
    slug = make_post(title="Alone", tags=("혼자",))
    make_post(title="Other", tags=("다른",))
    assert "related-posts" not in client.get(f"/posts/{slug}").text


def test_reading_time_on_article_and_list(client: FlaskClient, make_post: MakePost) -> None:
    korean = make_post(title="긴 글", source="가나다라마 " * 250)  # 1,250 Hangul: 3 minutes
    english = make_post(title="Long", source="word " * 460)  # 460 words: 2 minutes
    assert '<span class="reading-time">3 min read</span>' in client.get(f"/posts/{korean}").text
    assert '<span class="reading-time">2 min read</span>' in client.get(f"/posts/{english}").text
    assert '<span class="reading-time">3 min read</span>' in client.get("/").text


def test_korean_site_writes_dates_and_reading_time_in_korean(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    with app.app_context(), writing():
        set_setting("language", "ko")
    # 2024-07-21 15:30 UTC is 22 July in Seoul.
    slug = make_post(title="기사", source="가나다라마 " * 250,
                     published_at=datetime(2024, 7, 21, 15, 30, tzinfo=UTC))  # fmt: skip
    article = client.get(f"/posts/{slug}").text
    assert '<time datetime="2024-07-22T00:30+09:00">2024년 7월 22일</time>' in article
    assert '<span class="reading-time">3분 분량</span>' in article
    assert "2024년 7월 22일" in client.get("/").text
    assert 'href="/archive/2024/07">2024년 7월</a>' in client.get("/archive").text
    assert '<span class="list-kind">글 보관함</span>' in client.get("/archive/2024/07").text


def test_english_site_writes_dates_in_english(client: FlaskClient, make_post: MakePost) -> None:
    slug = make_post(title="Story", published_at=datetime(2024, 7, 21, 15, 30, tzinfo=UTC))
    assert (
        '<time datetime="2024-07-22T00:30+09:00">July 22, 2024</time>'
        in client.get(f"/posts/{slug}").text
    )


def test_article_page_loads_the_highlight_stylesheet(
    client: FlaskClient, make_post: MakePost
) -> None:
    slug = make_post(title="Code", source="```python\nx = 1\n```\n")
    html = client.get(f"/posts/{slug}").text
    assert re.search(
        r'<link rel="stylesheet" href="/static/css/highlight\.[0-9a-f]{8}\.css">', html
    )
    assert '<span class="n">x</span>' in html


def test_posts_a_century_older_than_the_rest_are_still_counted(
    client: FlaskClient, make_post: MakePost
) -> None:
    # Past ARCHIVE_MONTHS_IN_SQL months back, months are counted from the posts' times.
    # Seoul kept local mean time then, UTC+8:27:52: 16:00 UTC was 00:27 on 1 April.
    make_post(title="Ancient", published_at=datetime(1901, 3, 31, 16, 0, tzinfo=UTC))
    make_post(title="Recent", published_at=datetime(2024, 7, 10, tzinfo=UTC))
    index = client.get("/archive").text
    assert re.findall(r'href="/archive/(\d{4}/\d{2})"', index) == ["2024/07", "1901/04"]
    assert _titles(client.get("/archive/1901/04").text) == ["Ancient"]
