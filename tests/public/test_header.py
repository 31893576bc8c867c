"""The site header: the blog's name and the categories readers can open, on every page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from blog.database import writing
from blog.extensions import db
from blog.models import Post
from tests.conftest import MakePost
from tests.test_query_counts import counting_statements


def header_categories(html: str) -> list[str]:
    nav = re.search(r'<nav class="site-nav" aria-label="[^"]+">(.*?)</nav>', html, re.S)
    return re.findall(r"<a [^>]*>([^<]*)</a>", nav[1]) if nav else []


def test_the_header_names_the_categories_of_public_posts_only(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="정치 기사", categories=("정치", "국제"))
    make_post(title="초안", status="draft", categories=("경제",))
    make_post(title="숨긴 글", status="unlisted", categories=("비공개",))
    later = datetime.now(UTC) + timedelta(days=3)
    make_post(title="예약", status="scheduled", published_at=later, categories=("스포츠",))
    for page in ("/", "/posts/post-1", "/login", "/category/정치"):
        html = client.get(page).text
        assert header_categories(html) == ["국제", "정치"], page
        assert '<a class="site-title" href="/">Test Blog</a>' in html
    current = client.get("/category/정치").text
    assert 'aria-current="page">정치</a>' in current and 'aria-current="page">국제' not in current


def test_the_header_follows_a_publish_and_is_not_read_per_request(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="정치 기사", categories=("정치",))
    slug = make_post(title="경제 초안", status="draft", categories=("경제",))
    app.wsgi_app.max_bytes = 0  # type: ignore[attr-defined]  # every request reaches the app
    client.get("/")
    with counting_statements(app) as statements:
        assert header_categories(client.get("/posts/post-1").text) == ["정치"]
    assert not any("FROM categories" in sql and "EXISTS" in sql for sql in statements)
    with app.app_context(), writing():
        db.session.query(Post).filter_by(slug=slug).one().status = "published"
    assert header_categories(client.get("/").text) == ["경제", "정치"]
