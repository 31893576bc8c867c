"""Fixtures: an app on a fresh database, a client, the CLI runner, post factories.

The suite runs on SQLite (the default) or on PostgreSQL (`pytest --database postgresql`, or
BLOG_TEST_DATABASE=postgresql): then every blog a test makes gets its own database on a real
PostgreSQL server (tests/postgres_server.py), dropped when the test ends.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("BLOG_TEST_DATABASE", "sqlite"),
        help="the database every test's blog runs on (PostgreSQL: a private server is started)",
    )


class _Databases:
    """Which database the run uses, and on PostgreSQL the server and this test's databases."""

    kind = "sqlite"
    server: Any = None
    created: list[str] = []
    template: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    _Databases.kind = config.getoption("--database")
    if on_postgresql() and not os.environ.get("BLOG_TEST_POSTGRES_URL"):
        from tests.postgres_server import server_binaries

        if server_binaries() is None:
            message = "PostgreSQL's server is not installed (apt-get install postgresql)"
            if os.environ.get("CI"):
                raise pytest.UsageError(message + ": .ci/run installs it")
            pytest.exit(message + "; the PostgreSQL run is skipped.", returncode=0)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not on_postgresql():
        return
    skip = pytest.mark.skip(reason="tests SQLite's own machinery")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _Databases.server is not None:
        for name in [*_Databases.created, _Databases.template]:
            if name:
                _Databases.server.drop_database(name)
        _Databases.created.clear()
        _Databases.server.stop()
        _Databases.server = None


def on_postgresql() -> bool:
    return _Databases.kind == "postgresql"


def database_url(directory: Path, with_tables: bool = False) -> str:
    """The database of the blog whose data directory is `directory`: its SQLite file, or on
    PostgreSQL a new database of its own (made on first use, dropped after the test).

    `with_tables`: on PostgreSQL, made as a copy of a database where create_all() ran, as
    the `app` fixture is about to run it (copying is quicker than creating the tables for
    each test); on SQLite the fixture creates them."""
    if not on_postgresql():
        return f"sqlite:///{directory / 'blog.sqlite3'}"
    server = _postgres_server()
    name = "blog_" + hashlib.sha1(str(directory.resolve()).encode()).hexdigest()[:20]
    if name not in _Databases.created:
        server.drop_database(name)  # left by an interrupted run on an outside server
        server.create_database(name, template=_tables_template() if with_tables else None)
        _Databases.created.append(name)
    return str(server.url(name))


def _postgres_server() -> Any:
    if _Databases.server is None:
        from tests.postgres_server import PostgresServer

        _Databases.server = PostgresServer.from_environment()
    return _Databases.server


def _tables_template() -> str:
    """A database with the tables create_all() makes, made once per run."""
    if _Databases.template is None:
        server = _postgres_server()
        name = f"blog_tables_{os.getpid()}"
        server.drop_database(name)
        url = server.create_database(name)
        config = {"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": url}
        app = create_app(config, instance_path=tempfile.mkdtemp(prefix="blog-template-"))
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        _Databases.template = name
    return _Databases.template


def database_env(directory: Path) -> dict[str, str]:
    """What a `blog` process needs in its environment to use `directory`'s database (nothing
    on SQLite: the data directory says it)."""
    return {"DATABASE_URL": database_url(directory)} if on_postgresql() else {}


def drop_database_of(app: Flask) -> None:
    """On PostgreSQL: take the app's database away from the server (what a blog sees when
    its database server lost it)."""
    from sqlalchemy.engine import make_url

    _Databases.server.drop_database(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    # Databases made before this point belong to module fixtures (set up first): they stay
    # until the end of the run.
    kept = len(_Databases.created)
    yield
    while len(_Databases.created) > kept:
        _Databases.server.drop_database(_Databases.created.pop())


@contextmanager
def holding_the_write_lock(app: Flask) -> Iterator[Callable[[], None]]:
    """Another connection holds the blog's write lock (as a long save in another process
    would) until the block ends or the `release` it yields is called (from any thread)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if on_postgresql():
        import psycopg
        from sqlalchemy.engine import make_url

        from blog.database import WRITE_LOCK_KEY
        from tests.postgres_server import _libpq

        holder: Any = psycopg.connect(_libpq(make_url(url)), autocommit=True)
        holder.execute(f"SELECT pg_advisory_lock({WRITE_LOCK_KEY})")
        unlock = f"SELECT pg_advisory_unlock({WRITE_LOCK_KEY})"
    else:
        import sqlite3

        holder = sqlite3.connect(
            url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
        )
        holder.execute("BEGIN IMMEDIATE")
        unlock = "ROLLBACK"
    released = threading.Lock()

    def release() -> None:
        if released.acquire(blocking=False):
            holder.execute(unlock)

    try:
        yield release
    finally:
        release()
        holder.close()


def app_config(tmp_path: Path, with_tables: bool = False) -> dict[str, Any]:
    """The test app's configuration: a fresh database for tmp_path."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url(tmp_path, with_tables),
        "BLOG_TITLE": "Test Blog",
        "BLOG_LANGUAGE": "en",
        "BLOG_TIMEZONE": "Asia/Seoul",
        "POSTS_PER_PAGE": 3,
    }


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        app_config(tmp_path, with_tables=True), instance_path=str(tmp_path / "instance")
    )
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


def debian_program(name: str, package: str) -> str:
    """The path of a program a test needs from Debian's `package`: the test is skipped when
    it is missing, except in CI, where it fails (.ci/run installs it)."""
    import shutil

    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing: .ci/run installs Debian's {package} package")
        pytest.skip(f"{name} is missing (apt-get install {package})")
    return found


@pytest.fixture(scope="session")
def nginx_available() -> str:
    """Debian's nginx (its path), for the tests behind the shipped configuration."""
    return (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else debian_program("nginx", "nginx")
    )


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
