"""Fixtures: an app on a fresh SQLite database, a client, the CLI runner, post factories."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from waitress import wasyncore
from waitress.server import create_server

from blog import create_app
from blog.auth.accounts import create_user
from blog.content.posts import render_post, save_post, set_categories, set_tags
from blog.database import writing
from blog.extensions import db
from blog.models import Post, Role, User


def app_config(tmp_path: Path) -> dict[str, Any]:
    """The test app's configuration: a fresh SQLite database in tmp_path."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'blog.sqlite3'}",
        "BLOG_TITLE": "Test Blog",
        "BLOG_LANGUAGE": "en",
        "BLOG_TIMEZONE": "Asia/Seoul",
        "POSTS_PER_PAGE": 3,
    }


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(app_config(tmp_path), instance_path=str(tmp_path / "instance"))
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


CHROMIUM = "/usr/bin/chromium"
# Flags the workplace needs: no sandbox as root, and no background calls to the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, one for the whole run."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app behind waitress on a free port, in a thread; yields its base URL."""
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Close the sockets inside the server's own loop, so it ends instead of finding
        # its file descriptors gone mid-select.
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test app behind waitress on a free port; yields its base URL."""
    with serving(app) as base:
        yield base


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
    with app.app_context(), writing():
        return create_user("admin", PASSWORD, Role.ADMIN).id


_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def token_from(html: str) -> str:
    """The CSRF token a page carries (one per session, valid for every form)."""
    match = _TOKEN.search(html)
    assert match, "page has no CSRF token"
    return match[1]


def post_form(
    client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any
) -> Any:
    """POST like a browser does: with the session's CSRF token."""
    payload = {"csrf_token": client.csrf_token, **(data or {})}  # type: ignore[attr-defined]
    return client.post(url, data=payload, **kwargs)


Login = Callable[..., int]
PASSWORD = "correct horse battery"


@pytest.fixture
def login(app: Flask, client: FlaskClient) -> Login:
    """Create a user with `role` and sign `browser` (default: the client) in; returns the id."""

    def sign_in(
        role: str = "admin", username: str | None = None, browser: FlaskClient | None = None
    ) -> int:
        browser = browser or client
        with app.app_context(), writing():
            user_id = create_user(username or role, PASSWORD, Role(role)).id
        token = token_from(browser.get("/login").text)
        response = browser.post(
            "/login", data={"login": username or role, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 303, response.text
        browser.csrf_token = token_from(browser.get("/account").text)  # type: ignore[attr-defined]
        return user_id

    return sign_in


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
        author_id = fields.pop("author_id", None)
        with app.app_context():
            rendered = render_post(
                source, source_format, fields.get("excerpt", ""), fields.get("feature_text", "")
            )
        with app.app_context(), writing():
            post = Post(
                title=title or f"Post {number}",
                slug=fields.pop("slug", None) or f"post-{number}",
                source=source,
                source_format=source_format,
                status=status,
                published_at=published_at or datetime(2024, 1, number % 28 + 1, tzinfo=UTC),
                **fields,
            )
            post.author_id = author_id
            db.session.add(post)
            set_categories(post, list(categories))
            set_tags(post, list(tags))
            save_post(post, db.session.get(User, 1), rendered)
            return post.slug

    return make
