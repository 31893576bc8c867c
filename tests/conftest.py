"""Fixtures: an app on a fresh SQLite database, a client, the CLI runner, post factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from blog import create_app
from blog.auth.accounts import create_user
from blog.content.posts import save_post, set_categories, set_tags
from blog.extensions import db
from blog.models import Post, Role, User


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'blog.sqlite3'}",
            "BLOG_TITLE": "Test Blog",
            "BLOG_LANGUAGE": "en",
            "BLOG_TIMEZONE": "Asia/Seoul",
            "POSTS_PER_PAGE": 3,
        },
        instance_path=str(tmp_path / "instance"),
    )
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    """For tests that call the domain layer directly."""
    with app.app_context():
        yield app


@pytest.fixture
def admin(app: Flask) -> int:
    with app.app_context():
        user = create_user("admin", "admin-password", Role.ADMIN)
        db.session.commit()
        return user.id


MakePost = Callable[..., str]


@pytest.fixture
def make_post(app: Flask) -> MakePost:
    """Create a post through the domain layer; returns its slug."""
    counter = iter(range(1, 10_000))

    def make(
        title: str | None = None,
        source: str = "Some *text*.",
        source_format: str = "markdown",
        status: str = "published",
        published_at: datetime | None = None,
        categories: tuple[str, ...] = (),
        tags: tuple[str, ...] = (),
        **fields: Any,
    ) -> str:
        number = next(counter)
        with app.app_context():
            post = Post(
                title=title or f"Post {number}",
                slug=fields.pop("slug", None) or f"post-{number}",
                source=source,
                source_format=source_format,
                status=status,
                published_at=published_at or datetime(2024, 1, number % 28 + 1, tzinfo=UTC),
                **fields,
            )
            db.session.add(post)
            set_categories(post, list(categories))
            set_tags(post, list(tags))
            save_post(post, db.session.get(User, 1))
            db.session.commit()
            return post.slug

    return make
