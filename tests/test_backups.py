"""`blog backup` during concurrent saves, and `blog restore`: checks first, then replaces."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url

from blog import backups, create_app
from blog.auth.accounts import create_user
from blog.changes import ChangeSignal
from blog.content.media import clean_image, media_url_for, store_media
from blog.content.posts import render_post, save_post, set_categories, set_tags
from blog.content.settings import set_setting
from blog.database import writing
from blog.extensions import db, init_migrations
from blog.models import Post, Role, User
from tests.conftest import PASSWORD, app_config, token_from
from tests.helpers_http import free_port
from tests.test_cli import _get_when_up

# Everything a restored blog must give back, compared row by row with the source.
TABLES = ("users", "settings", "categories", "tags", "posts", "revisions", "media",
          "post_categories", "post_tags", "post_media", "redirects")  # fmt: skip
WRITTEN = "articles_written"  # the setting the writer moves in each of its transactions


def make_blog(directory: Path, sample: bool = False) -> Flask:
    """A blog in `directory` set up as `blog init` sets one up."""
    app = create_app(app_config(directory), instance_path=str(directory / "instance"))
    result = app.test_cli_runner().invoke(args=["init", "--sample" if sample else "--no-sample"])
    assert result.exit_code == 0, result.output
    return app


def database_of(app: Flask) -> Path:
    return Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database or "")


def png(number: int) -> bytes:
    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", (6, 4), (number % 256, number // 256 % 256, 90)).save(output, "PNG")
    return output.getvalue()


Row = tuple[tuple[str, Any], ...]


def rows_of(path: Path) -> dict[str, set[Row]]:
    """Every row of the compared tables, as (column, value) pairs."""
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as connection:
        connection.row_factory = sqlite3.Row
        return {
            table: {
                tuple(sorted(dict(row).items()))
                for row in connection.execute(f"SELECT * FROM {table}")  # noqa: S608
            }
            for table in TABLES
        }


def value(row: Row, column: str) -> Any:
    return dict(row)[column]


def setting(rows: dict[str, set[Row]], key: str) -> Any:
    return next(value(row, "value") for row in rows["settings"] if value(row, "key") == key)


def write_articles(app: Flask, stop: threading.Event, progress: threading.Semaphore) -> None:
    """Save Korean articles through the domain layer until told to stop: each transaction
    stores an image, a post using it, two revisions of it, and the count so far."""
    with app.app_context():
        admin_id = db.session.execute(select(User.id)).scalars().first()
        number = 0
        while not stop.is_set():
            number += 1
            image = clean_image(png(number), 1_000_000)
            url = media_url_for(image.sha256, f"현장-{number}.png")
            source = (
                f"# 속보 {number}\n\n국회 본회의 {number}차 보도.\n\n![현장 사진 {number}]({url})"
            )
            rendered = render_post(source, "markdown")
            with writing():
                store_media(image, f"현장-{number}.png", admin_id)
                post = Post(title=f"속보 {number}", slug=f"breaking-{number}", source=source,
                            source_format="markdown", status="published", author_id=admin_id,
                            published_at=datetime(2025, 1, 1, tzinfo=UTC))  # fmt: skip
                db.session.add(post)
                set_categories(post, ["정치"])
                set_tags(post, ["국회"])
                save_post(post, None, rendered)
                post.title = f"속보 {number} (수정)"
                save_post(post, None, rendered, note="제목 수정")
                set_setting(WRITTEN, number)
            db.session.remove()
            progress.release()


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Flask]:
    app = make_blog(tmp_path / "source", sample=True)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_backup_during_concurrent_saves_restores_to_the_blog_of_that_moment(
    source: Flask, tmp_path: Path
) -> None:
    with source.app_context(), writing():  # the writer's category and tag exist already
        set_categories(db.session.execute(select(Post)).scalars().first(), ["정치"])
        set_tags(db.session.execute(select(Post)).scalars().first(), ["국회"])
    stop, progress = threading.Event(), threading.Semaphore(0)
    writer = threading.Thread(target=write_articles, args=(source, stop, progress))
    writer.start()
    files = []
    try:
        for index in range(3):
            for _ in range(3):  # saves land between backups
                assert progress.acquire(timeout=60), "the writer stopped"
            file = tmp_path / f"backup-{index}.sqlite3"
            result = source.test_cli_runner().invoke(args=["backup", str(file)])
            assert result.exit_code == 0, result.output
            assert "post(s) with" in result.output and "media file(s)" in result.output
            files.append(file)
        assert progress.acquire(timeout=60)  # and after the last one
    finally:
        stop.set()
        writer.join(timeout=60)
    final = rows_of(database_of(source))
    in_the_end = int(setting(final, WRITTEN))

    seen = []
    for index, file in enumerate(files):
        fresh = tmp_path / f"fresh-{index}"
        target = create_app(app_config(fresh), instance_path=str(fresh / "instance"))
        result = target.test_cli_runner().invoke(args=["restore", str(file)])
        assert result.exit_code == 0, result.output
        restored = rows_of(database_of(target))
        written = int(setting(restored, WRITTEN))
        seen.append(written)
        # The moment of the backup, as the source's history tells it: articles 1..written
        # with all their revisions and images, nothing of later ones, every row equal.
        later = range(written + 1, in_the_end + 1)
        expected_posts = {
            row
            for row in final["posts"]
            if value(row, "slug") not in {f"breaking-{n}" for n in later}
        }
        assert restored["posts"] == expected_posts
        post_ids = {value(row, "id") for row in expected_posts}
        for table in ("revisions", "post_categories", "post_tags", "post_media", "redirects"):
            expected = {row for row in final[table] if value(row, "post_id") in post_ids}
            assert restored[table] == expected, table
        later_images = {f"현장-{n}.png" for n in later}
        assert restored["media"] == {
            row for row in final["media"] if value(row, "filename") not in later_images
        }
        for table in ("users", "categories", "tags"):
            assert restored[table] == final[table], table
        assert {row for row in restored["settings"] if value(row, "key") != WRITTEN} == {
            row for row in final["settings"] if value(row, "key") != WRITTEN
        }
        # The restored blog serves the moment's last article and not the next one.
        client = target.test_client()
        assert client.get(f"/posts/breaking-{written}").status_code == 200
        assert client.get(f"/posts/breaking-{written + 1}").status_code == 404
        with target.app_context():
            db.engine.dispose()
    assert 0 < seen[0] < seen[1] < seen[2] < in_the_end


@pytest.fixture
def backup_file(source: Flask, tmp_path: Path) -> Path:
    file = tmp_path / "good.sqlite3"
    result = source.test_cli_runner().invoke(args=["backup", str(file)])
    assert result.exit_code == 0, result.output
    with source.app_context():
        db.engine.dispose()
    return file


def _restore(app: Flask, file: Path, *options: str) -> Any:
    result = app.test_cli_runner().invoke(args=["restore", str(file), *options])
    with app.app_context():
        db.engine.dispose()
    return result


def _corrupt(file: Path) -> None:
    """Spoil the first byte (the b-tree page type) of every page but the first: the file
    still starts like a SQLite database and its schema still reads."""
    data = bytearray(file.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    for start in range(page_size, len(data), page_size):
        data[start] = 0x07
    file.write_bytes(bytes(data))


def _newer(file: Path) -> None:
    with closing(sqlite3.connect(file)) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
        connection.commit()


def _not_a_blog(file: Path) -> None:
    file.unlink()
    with closing(sqlite3.connect(file)) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.commit()


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda file: file.write_text("기사 목록\n"), "is not a SQLite database"),
        (_corrupt, "damaged"),
        (_newer, "newer version"),
        (_not_a_blog, "is not a backup of this blog"),
    ],
)
def test_restore_refuses_a_bad_file_and_leaves_the_blog_as_it_was(
    backup_file: Path, tmp_path: Path, spoil: Any, message: str
) -> None:
    live = make_blog(tmp_path / "live", sample=True)
    before = rows_of(database_of(live))
    spoil(backup_file)
    result = _restore(live, backup_file, "--force")
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert rows_of(database_of(live)) == before
    assert len(before["posts"]) == 1


def test_restore_refuses_while_the_database_is_open_elsewhere(
    backup_file: Path, tmp_path: Path
) -> None:
    target = make_blog(tmp_path / "live")
    with closing(sqlite3.connect(database_of(target))) as other_process:
        other_process.execute("SELECT count(*) FROM posts").fetchone()
        result = _restore(target, backup_file)
    assert result.exit_code == 1
    assert "open in another process" in result.output and "blog serve" in result.output
    with closing(sqlite3.connect(database_of(target))) as connection:
        assert connection.execute("SELECT count(*) FROM posts").fetchone() == (0,)


def test_restore_over_posts_needs_force_and_moves_the_change_counters_on(
    backup_file: Path, tmp_path: Path
) -> None:
    live = make_blog(tmp_path / "live", sample=True)
    with live.app_context(), writing():
        set_setting("title", "바뀐 제목")  # moves the public counter past the backup's
    old = rows_of(database_of(live))
    with closing(sqlite3.connect(database_of(live))) as connection:
        old_counters = dict(connection.execute("SELECT name, value FROM change_counters"))
    refused = _restore(live, backup_file)
    assert refused.exit_code == 1
    assert "holds 1 post(s)" in refused.output and "--force" in refused.output
    assert rows_of(database_of(live)) == old

    result = _restore(live, backup_file, "--force")
    assert result.exit_code == 0, result.output
    assert "replacing 1 post(s)" in result.output
    restored = rows_of(database_of(live))
    titles = [value(row, "value") for row in restored["settings"] if value(row, "key") == "title"]
    assert titles == []  # the backed-up blog never stored a title; the live one did
    with closing(sqlite3.connect(database_of(live))) as connection:
        counters = dict(connection.execute("SELECT name, value FROM change_counters"))
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert counters["public"] > old_counters["public"]
    # Every process's shared memory says so as well.
    assert ChangeSignal(f"{database_of(live)}-changes").read()[0] == counters["public"]


def test_restore_upgrades_a_backup_of_an_older_schema(tmp_path: Path) -> None:
    known, head = backups.known_revisions()
    older = known[1]  # the revision before the newest
    old = create_app(app_config(tmp_path / "old"), instance_path=str(tmp_path / "old" / "i"))
    init_migrations(old)
    with old.app_context():
        flask_migrate.upgrade(revision=older)
        db.engine.dispose()
    target = create_app(app_config(tmp_path / "new"), instance_path=str(tmp_path / "new" / "i"))
    result = _restore(target, database_of(old))
    assert result.exit_code == 0, result.output
    assert f"Upgrading its schema from {older} to {head}" in result.output
    assert backups.check_backup(database_of(target)).revision == head


def test_backup_of_a_database_other_than_sqlite_says_it_is_not_supported_yet() -> None:
    with pytest.raises(backups.BackupError, match="postgresql databases are not supported yet"):
        backups.sqlite_file(make_url("postgresql+psycopg://blog@localhost/blog"))


def test_backup_refuses_to_overwrite_the_live_database(source: Flask) -> None:
    result = source.test_cli_runner().invoke(args=["backup", str(database_of(source))])
    assert result.exit_code == 1
    assert "is the live database itself" in result.output


def test_restore_moves_the_static_mirror_to_an_empty_generation(
    backup_file: Path, tmp_path: Path
) -> None:
    mirror = tmp_path / "mirror"
    config = {**app_config(tmp_path / "live"), "BLOG_STATIC_MIRROR": str(mirror),
              "BLOG_BASE_URL": "https://news.example.kr"}  # fmt: skip
    live = create_app(config, instance_path=str(tmp_path / "live" / "instance"))
    assert live.test_cli_runner().invoke(args=["init", "--no-sample"]).exit_code == 0
    assert live.test_client().get("/").status_code == 200
    before = os.readlink(mirror / "current")
    assert any((mirror / before).iterdir())  # the home page, mirrored for nginx

    result = _restore(live, backup_file)
    assert result.exit_code == 0, result.output
    after = os.readlink(mirror / "current")
    with closing(sqlite3.connect(database_of(live))) as connection:
        (counter,) = connection.execute(
            "SELECT value FROM change_counters WHERE name = 'public'"
        ).fetchone()
    assert after != before and after.startswith(f"g{counter}-")
    assert not any((mirror / after).iterdir())


def test_the_blog_command_backs_up_while_serving_and_restores_once_stopped(
    tmp_path: Path,
) -> None:
    """Across real processes: `blog backup` beside a running `blog serve`, `blog restore`
    refused while it runs, done once it stopped."""
    blog = Path(sys.executable).parent / "blog"
    port = free_port()
    env = {**os.environ, "BLOG_INSTANCE_PATH": str(tmp_path / "instance"), "PORT": str(port)}
    env.pop("DATABASE_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([blog, *args], env=env, capture_output=True, text=True, timeout=120)

    assert run("init").returncode == 0
    server = subprocess.Popen([blog, "serve"], env=env, stdout=subprocess.DEVNULL)
    try:
        assert "한·미 동맹" in _get_when_up(f"http://127.0.0.1:{port}/")
        backup = run("backup", str(tmp_path / "copy.sqlite3"))
        assert backup.returncode == 0, backup.stderr
        assert "1 post(s) with" in backup.stdout
        assert (tmp_path / "copy.sqlite3").stat().st_mode & 0o077 == 0  # owner only
        refused = run("restore", "--force", str(tmp_path / "copy.sqlite3"))
        assert refused.returncode == 1
        assert "open in another process" in refused.stderr
    finally:
        server.terminate()
        server.wait(timeout=20)
    restored = run("restore", "--force", str(tmp_path / "copy.sqlite3"))
    assert restored.returncode == 0, restored.stderr
    assert "replacing 1 post(s)" in restored.stdout


def test_a_backup_restored_into_a_fresh_data_directory_keeps_everyone_signed_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key that signs sessions is in the database, so the backup carries it."""
    monkeypatch.delenv("SECRET_KEY", raising=False)

    def blog_in(directory: Path, **config: Any) -> Flask:
        settings = {**app_config(directory), **config}
        if "SECRET_KEY" not in config:
            del settings["SECRET_KEY"]  # the database's key, as a real start finds it
        return create_app(settings, instance_path=str(directory / "instance"))

    source = blog_in(tmp_path / "old")
    assert source.test_cli_runner().invoke(args=["init", "--no-sample"]).exit_code == 0
    with source.app_context(), writing():
        create_user("기자", PASSWORD, Role.ADMIN)
    browser = source.test_client()
    token = token_from(browser.get("/login").text)
    signed_in = browser.post("/login", data={"login": "기자", "password": PASSWORD,
                                             "csrf_token": token})  # fmt: skip
    assert signed_in.status_code == 303, signed_in.text
    assert browser.get("/admin/").status_code == 200
    file = tmp_path / "with-key.sqlite3"
    assert source.test_cli_runner().invoke(args=["backup", str(file)]).exit_code == 0
    with source.app_context():
        db.engine.dispose()

    fresh = tmp_path / "new"  # another machine: nothing but the backup
    assert _restore(blog_in(fresh), file).exit_code == 0
    restored = blog_in(fresh)  # the process started after the restore
    assert restored.config["SECRET_KEY"] == source.config["SECRET_KEY"]
    cookie_name = source.config["SESSION_COOKIE_NAME"]
    cookie = browser.get_cookie(cookie_name)
    assert cookie is not None
    for app, answer in ((restored, 200), (blog_in(fresh, SECRET_KEY="another key"), 302)):
        moved = app.test_client()
        moved.set_cookie(cookie_name, cookie.value)
        assert moved.get("/admin/").status_code == answer  # signed in; with another key, not
