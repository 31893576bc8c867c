"""The key that signs sessions lives in the database; SECRET_KEY, when given, wins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url

from blog import create_app
from blog.extensions import db, init_migrations
from blog.models import Secret
from blog.schema_state import OLDER_MESSAGE
from tests.conftest import app_config

OLD_KEY = "f" * 64  # what an earlier version wrote into the data directory


@pytest.fixture(autouse=True)
def _no_secret_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("BLOG_ADMIN_PASSWORD", raising=False)


def config_without_key(directory: Path) -> dict[str, Any]:
    config = app_config(directory)
    del config["SECRET_KEY"]
    return config


def blog_in(directory: Path) -> Flask:
    """The app a process of the blog in `directory` makes at start."""
    return create_app(config_without_key(directory), instance_path=str(directory / "instance"))


def init(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["init", "--no-sample"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()


def stored_key(app: Flask) -> str | None:
    with app.app_context():
        return db.session.execute(select(Secret.value)).scalar()


@pytest.mark.sqlite_only
def test_a_new_blog_stores_its_key_in_the_database_and_every_start_reads_it(
    tmp_path: Path,
) -> None:
    first = blog_in(tmp_path / "a")
    database = Path(make_url(first.config["SQLALCHEMY_DATABASE_URI"]).database or "")
    # Making the app (as `blog --help` does) does not create the database as a side effect.
    assert not database.exists()
    init(first)
    key = stored_key(first)
    assert key and len(key) == 64 and first.config["SECRET_KEY"] == key
    assert not (tmp_path / "a" / "instance" / "secret_key").exists()
    assert blog_in(tmp_path / "a").config["SECRET_KEY"] == key  # another process, the same
    other = blog_in(tmp_path / "b")
    init(other)
    assert other.config["SECRET_KEY"] != key


def test_the_first_start_on_a_database_without_a_key_stores_one(tmp_path: Path) -> None:
    app = blog_in(tmp_path)
    with app.app_context():
        db.create_all()  # the schema, as a migration run alone (`blog db upgrade`) leaves it
    assert stored_key(app) is None
    started = blog_in(tmp_path)
    assert stored_key(started) == started.config["SECRET_KEY"]
    assert blog_in(tmp_path).config["SECRET_KEY"] == started.config["SECRET_KEY"]


def test_the_old_key_file_keeps_working_and_init_moves_it_into_the_database(
    tmp_path: Path,
) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "secret_key").write_text(OLD_KEY)
    old = blog_in(tmp_path)
    init_migrations(old)
    with old.app_context():
        flask_migrate.upgrade(revision="c5d7e9f1a3b6")  # the schema before the key moved in
        db.engine.dispose()
    # The database cannot hold the key yet: the file's still signs, and serving says why not.
    app = blog_in(tmp_path)
    assert app.config["SECRET_KEY"] == OLD_KEY
    served = app.test_cli_runner().invoke(args=["serve"])
    assert served.exit_code == 1 and OLDER_MESSAGE in served.output
    init(app)
    assert stored_key(app) == OLD_KEY and app.config["SECRET_KEY"] == OLD_KEY
    assert not (instance / "secret_key").exists()  # moved, not copied
    assert blog_in(tmp_path).config["SECRET_KEY"] == OLD_KEY


def test_secret_key_given_in_the_environment_or_the_config_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init(blog_in(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    from_environment = blog_in(tmp_path)
    assert from_environment.config["SECRET_KEY"] == "from-the-environment"
    init(from_environment)  # init stores no other key, and does not replace the given one
    assert from_environment.config["SECRET_KEY"] == "from-the-environment"
    given = create_app(
        {**app_config(tmp_path), "SECRET_KEY": "비밀"}, instance_path=str(tmp_path / "instance")
    )
    assert given.config["SECRET_KEY"] == "비밀"
    assert stored_key(given) not in {"비밀", "from-the-environment", None}
