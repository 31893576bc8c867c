"""Every page costs a small, fixed number of SQL statements, however many posts there are.

An N+1 query (one per post, file or event listed) shows up as a count that grows with
the data; the pages are measured with 4 and with 30 of everything and must cost the same.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import event, select

from blog import audit
from blog.auth.accounts import create_user
from blog.content.settings import set_setting
from blog.database import writing
from blog.extensions import db
from blog.models import Media, Post, Revision, Role
from tests.conftest import Login, MakePost, post_form

# The most statements any page may take (session, user, settings, the page's own queries).
MOST_STATEMENTS = 16


@contextmanager
def counting_statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs (BEGIN and COMMIT included)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _png(shade: int) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (8, 8), (shade, 0, 0)).save(output, "PNG")
    return output.getvalue()


def _fill(app: Flask, client: FlaskClient, make_post: MakePost, count: int, start: int) -> None:
    """`count` more posts, each with a category, a tag, an uploaded image and revisions."""
    for number in range(start, start + count):
        upload = post_form(client, "/admin/media",
                           {"file": (io.BytesIO(_png(number)), f"i{number}.png")},
                           content_type="multipart/form-data")  # fmt: skip
        assert upload.status_code == 303
        with app.app_context():
            sha = db.session.execute(select(Media.sha256).order_by(Media.id.desc())).scalar()
        make_post(title=f"Post {number}", slug=f"p{number}", categories=("News",),
                  tags=("tag",), source=f"![x](/media/{sha}/i{number}.png)",
                  author_id=1)  # fmt: skip
        make_post(title=f"Draft {number}", slug=f"d{number}", status="draft", author_id=1)
    with app.app_context(), writing():
        # Trash, users and audit events by many different actors grow too.
        trashed = db.session.execute(select(Post).where(Post.slug == f"d{start}")).scalar_one()
        trashed.deleted_at = trashed.published_at
        for number in range(start, start + count):
            actor = create_user(f"user{number}", "a long password", Role.AUTHOR)
            audit.record(actor, "post.publish", f"Post {number}")


def _pages(app: Flask) -> list[str]:
    with app.app_context():
        post = db.session.execute(select(Post).where(Post.slug == "p0")).scalar_one()
        media = db.session.execute(select(Media).order_by(Media.id)).scalars().first()
        assert media is not None
        revision = db.session.execute(select(Revision.id).where(Revision.post_id == post.id))
        return [
            "/", "/?page=2", "/category/news", "/tag/tag", "/posts/p0",
            "/archive", "/archive/2024", "/archive/2024/01", "/categories", "/tags",
            f"/media/{media.sha256}/{media.filename}",
            "/admin/", "/admin/?category=news", f"/admin/posts/{post.id}/edit",
            f"/admin/posts/{post.id}/revisions?b={revision.scalars().first()}",
            "/admin/posts/new", "/admin/media", "/admin/taxonomy", "/admin/trash",
            "/admin/users", "/admin/audit", "/admin/settings", "/account",
        ]  # fmt: skip


def _costs(app: Flask, client: FlaskClient, pages: list[str]) -> dict[str, int]:
    costs = {}
    for page in pages:
        client.get(page)  # warm: a first visit may touch the session
        with counting_statements(app) as statements:
            response = client.get(page)
        assert response.status_code == 200, page
        costs[page] = len(statements)
    return costs


@pytest.mark.parametrize("signed_in", [False, True])
def test_no_page_costs_more_statements_with_more_posts(
    app: Flask, client: FlaskClient, login: Login, make_post: MakePost, signed_in: bool
) -> None:
    login("admin")
    _fill(app, client, make_post, 4, 0)
    pages = _pages(app)
    reader = client if signed_in else app.test_client()
    if not signed_in:
        pages = [page for page in pages if not page.startswith(("/admin", "/account"))]
    few = _costs(app, reader, pages)
    _fill(app, client, make_post, 26, 4)
    many = _costs(app, reader, pages)
    assert many == few, {page: (few[page], many[page]) for page in pages if few[page] != many[page]}
    assert max(many.values()) <= MOST_STATEMENTS, many


def _selects(statements: list[str]) -> list[str]:
    return [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]


def _uncached(app: Flask) -> FlaskClient:
    """A reader whose every request reaches the app: the cost of a page-cache miss."""
    app.wsgi_app.max_bytes = 0  # type: ignore[attr-defined]
    return app.test_client()


def test_an_article_costs_three_queries_and_never_its_neighbours_bodies(
    app: Flask, make_post: MakePost
) -> None:
    for number in range(5):
        # Without tags: no related posts to look for (see the test below for those).
        make_post(title=f"Post {number}", slug=f"p{number}", categories=("News", "국제"),
                  author_id=None)  # fmt: skip
    reader = _uncached(app)
    reader.get("/posts/p2")
    with counting_statements(app) as statements:
        page = reader.get("/posts/p2")
    assert page.status_code == 200
    assert 'rel="prev" href="/posts/p1"' in page.text and 'rel="next" href="/posts/p3"' in page.text
    selects = _selects(statements)
    assert len(selects) <= 3, selects
    # The post's own body once; the neighbours give their titles and slugs only.
    assert sum(sql.count("body_html") for sql in selects) == 1, selects
    assert not any("posts.source," in sql or "posts.source " in sql for sql in selects)


def test_a_deep_list_page_costs_what_the_first_costs(app: Flask, make_post: MakePost) -> None:
    for number in range(12):
        make_post(title=f"Post {number}", slug=f"p{number}", categories=("News",))
    reader = _uncached(app)
    first = reader.get("/")
    cursor = re.search(r'class="more-posts" href="([^"]+)"', first.text)
    assert cursor is not None
    costs = {}
    for url in (
        "/",
        unescape(cursor.group(1)),
        "/?page=4",
        "/category/news",
        "/category/news?page=3",
    ):
        reader.get(url)
        with counting_statements(app) as statements:
            assert reader.get(url).status_code == 200, url
        costs[url] = len(_selects(statements))
    assert max(costs.values()) <= costs["/"] + 1, costs  # a category page looks up its name
    assert costs["/"] == 2, costs  # the posts, their categories (settings are kept)


def test_settings_are_read_once_per_change_not_per_request(app: Flask, make_post: MakePost) -> None:
    make_post(title="Post")
    reader = _uncached(app)
    reader.get("/")
    with counting_statements(app) as statements:
        reader.get("/")
        reader.get("/posts/post")
    assert not any("FROM settings" in sql for sql in statements), statements
    with app.app_context(), writing():
        set_setting("title", "다른 이름")
    with counting_statements(app) as statements:
        assert "다른 이름" in reader.get("/").text
    assert sum("FROM settings" in sql for sql in statements) == 1


def test_indexes_and_archives_are_one_grouped_query(app: Flask, make_post: MakePost) -> None:
    for number in range(6):
        make_post(title=f"Post {number}", slug=f"p{number}", categories=(f"c{number % 3}",),
                  tags=(f"t{number % 2}", "all"))  # fmt: skip
    reader = _uncached(app)
    costs = {}
    for url in ("/categories", "/tags", "/archive/2024/01"):
        reader.get(url)
        with counting_statements(app) as statements:
            assert reader.get(url).status_code == 200, url
        costs[url] = len(_selects(statements))
    assert costs == {"/categories": 1, "/tags": 1, "/archive/2024/01": 2}, costs
    reader.get("/archive")
    with counting_statements(app) as statements:
        assert reader.get("/archive").status_code == 200
    # Kept per public change.
    assert len(_selects(statements)) == 0
    with app.app_context(), writing():
        set_setting("title", "다른 이름")
    with counting_statements(app) as statements:
        assert reader.get("/archive").status_code == 200
    # The oldest post, then a count per month in one statement, however many posts.
    assert sum("FROM posts" in sql for sql in _selects(statements)) == 2


def test_related_posts_are_one_query_more(app: Flask, make_post: MakePost) -> None:
    for number in range(8):
        make_post(title=f"Post {number}", slug=f"p{number}", categories=("News",),
                  tags=("a", f"b{number % 2}"))  # fmt: skip
    reader = _uncached(app)
    reader.get("/posts/p3")
    with counting_statements(app) as statements:
        page = reader.get("/posts/p3")
    assert 'class="related-posts"' in page.text
    selects = _selects(statements)
    # The three of an article without tags, and one for its related posts.
    assert len(selects) == 4, selects
    assert sum("post_tags" in sql and "count(" in sql.lower() for sql in selects) == 1
    assert sum(sql.count("body_html") for sql in selects) == 1, selects
