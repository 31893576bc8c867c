"""Every page costs a small, fixed number of SQL statements, however many posts there are.

An N+1 query (one per post, file or event listed) shows up as a count that grows with
the data; the pages are measured with 4 and with 30 of everything and must cost the same.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import event, select

from blog import audit
from blog.auth.accounts import create_user
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
