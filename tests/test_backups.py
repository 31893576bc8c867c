"""`blog backup` during concurrent saves, and `blog restore`: checks first, then replaces.

On SQLite and on PostgreSQL (`pytest --database postgresql`): the tests of SQLite's file
(its pages, its -wal) are marked sqlite_only and have PostgreSQL counterparts here.
"""

from __future__ import annotations

import io
import json
import os
import shutil
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
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from blog import backups, create_app
from blog.auth.accounts import create_user
from blog.changes import ChangeSignal, monitor
from blog.content.media import clean_image, media_url_for, store_media
from blog.content.posts import render_post, save_post, set_categories, set_tags
from blog.content.settings import set_setting
from blog.database import writing
from blog.extensions import db, init_migrations
from blog.models import Post, Role, User
from tests.conftest import PASSWORD, app_config, database_env, on_postgresql, token_from
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


postgresql_only = pytest.mark.skipif(
    "not config.getoption('--database') == 'postgresql'", reason="tests PostgreSQL's dumps"
)


def database_of(app: Flask) -> Path:
    """The blog's SQLite file (sqlite_only tests)."""
    return Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database or "")


def query(app: Flask, statement: str) -> list[tuple[Any, ...]]:
    """The rows `statement` selects from the blog's database, over a connection of its own
    (closed at once: a restore must not count it as another process's)."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(statement))]
    finally:
        engine.dispose()


def _comparable(value: Any) -> Any:
    """A column's value as a set member (PostgreSQL returns JSON columns as dicts)."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def png(number: int) -> bytes:
    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", (6, 4), (number % 256, number // 256 % 256, 90)).save(output, "PNG")
    return output.getvalue()


Row = tuple[tuple[str, Any], ...]


def rows_of(app: Flask) -> dict[str, set[Row]]:
    """Every row of the compared tables, as (column, value) pairs."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return {
                table: {
                    tuple(sorted((name, _comparable(item)) for name, item in row.items()))
                    for row in connection.execute(text(f"SELECT * FROM {table}")).mappings()  # noqa: S608
                }
                for table in TABLES
            }
    finally:
        engine.dispose()


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
            file = tmp_path / f"backup-{index}.backup"
            result = source.test_cli_runner().invoke(args=["backup", str(file)])
            assert result.exit_code == 0, result.output
            assert "post(s) with" in result.output and "media file(s)" in result.output
            files.append(file)
        assert progress.acquire(timeout=60)  # and after the last one
    finally:
        stop.set()
        writer.join(timeout=60)
    final = rows_of(source)
    in_the_end = int(setting(final, WRITTEN))

    seen = []
    for index, file in enumerate(files):
        fresh = tmp_path / f"fresh-{index}"
        target = create_app(app_config(fresh), instance_path=str(fresh / "instance"))
        result = target.test_cli_runner().invoke(args=["restore", str(file)])
        assert result.exit_code == 0, result.output
        restored = rows_of(target)
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
    file = tmp_path / "good.backup"
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


def _assert_restore_refused(tmp_path: Path, backup_file: Path, spoil: Any, message: str) -> None:
    """`blog restore --force` of the spoiled backup fails, saying `message`, and leaves a
    blog holding the sample exactly as it was."""
    live = make_blog(tmp_path / "live", sample=True)
    before = rows_of(live)
    spoil(backup_file)
    result = _restore(live, backup_file, "--force")
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert rows_of(live) == before
    assert len(before["posts"]) == 1


@pytest.mark.sqlite_only
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
    _assert_restore_refused(tmp_path, backup_file, spoil, message)


def _dump_of(app: Flask, file: Path, statement: str | None = None) -> None:
    """`file`: a dump of the app's database, after `statement` (run in a transaction)."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    try:
        if statement is not None:
            with engine.begin() as connection:
                connection.execute(text(statement))
        from blog.postgres_backups import dump

        dump(engine, file)  # unchecked: a backup would refuse to describe such a file
    finally:
        engine.dispose()


def _cut(file: Path, tmp_path: Path) -> None:
    file.write_bytes(file.read_bytes()[: file.stat().st_size * 2 // 3])


def _scribbled(file: Path, tmp_path: Path) -> None:
    """Bytes overwritten past the table of contents, inside the compressed table data."""
    data = bytearray(file.read_bytes())
    for start in range(len(data) // 2, len(data) - 64, 97):
        data[start : start + 8] = b"\xa5" * 8
    file.write_bytes(bytes(data))


def _newer_dump(file: Path, tmp_path: Path) -> None:
    _dump_of(make_blog(tmp_path / "newer"), file,
             "UPDATE alembic_version SET version_num = 'ffffffffffff'")  # fmt: skip


def _dump_not_a_blog(file: Path, tmp_path: Path) -> None:
    other = create_app(app_config(tmp_path / "notes"), instance_path=str(tmp_path / "i"))
    _dump_of(other, file, "CREATE TABLE notes (body TEXT)")


@postgresql_only
@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda file, _: file.write_text("기사 목록\n"), "is not a PostgreSQL backup"),
        (_cut, "is damaged: pg_restore cannot read"),
        (_scribbled, "is damaged: pg_restore cannot read"),
        (_newer_dump, "newer version"),
        (_dump_not_a_blog, "is not a backup of this blog"),
    ],
)
def test_restore_refuses_a_bad_dump_and_leaves_the_blog_as_it_was(
    backup_file: Path, tmp_path: Path, spoil: Any, message: str
) -> None:
    assert backup_file.read_bytes().startswith(b"PGDMP")
    _assert_restore_refused(tmp_path, backup_file, lambda file: spoil(file, tmp_path), message)


@postgresql_only
def test_a_restore_that_fails_half_way_changes_nothing(backup_file: Path, tmp_path: Path) -> None:
    """Whatever fails once the old schema is dropped (psql at a statement after the
    restored tables; pg_restore part way through a file) rolls everything back: the live
    database keeps every row it had."""
    from blog import postgres_backups

    live = make_blog(tmp_path / "live", sample=True)
    with live.app_context():  # this process's connections, as `blog restore` closes them
        monitor().watcher.close()
        db.engine.dispose()
    before = rows_of(live)
    url = make_url(live.config["SQLALCHEMY_DATABASE_URI"])
    with pytest.raises(
        backups.BackupError, match="rolled back .the database is as it was"
    ) as failed:
        postgres_backups._replace_schema(url, backup_file, "pg_restore", _failing_psql(tmp_path))
    assert "division by zero" in str(failed.value)
    assert rows_of(live) == before

    cut = tmp_path / "cut.backup"
    cut.write_bytes(backup_file.read_bytes()[: backup_file.stat().st_size * 2 // 3])
    with pytest.raises(backups.BackupError, match="pg_restore failed, so nothing was restored"):
        postgres_backups._replace_schema(url, cut, "pg_restore", "psql")
    assert rows_of(live) == before
    assert query(live, "SELECT count(*) FROM posts") == [(1,)]


def _failing_psql(tmp_path: Path) -> str:
    """psql given the restore's SQL with a failing statement just before its COMMIT."""
    wrapper = tmp_path / "psql"
    wrapper.write_text("#!/bin/sh\nsed 's|^COMMIT;$|SELECT 1/0; COMMIT;|' | psql \"$@\"\n")
    wrapper.chmod(0o700)
    return str(wrapper)


def test_a_backup_of_the_other_kind_of_database_points_to_the_json_export(
    source: Flask, tmp_path: Path
) -> None:
    file = tmp_path / "other.backup"
    foreign = backups.SQLITE_HEADER if on_postgresql() else b"PGDMP"
    file.write_bytes(foreign + bytes(4096))
    result = _restore(source, file, "--force")
    assert result.exit_code == 1
    kind = "SQLite" if on_postgresql() else "PostgreSQL"
    assert f"is a backup of a {kind} database" in result.output
    assert "blog export-json" in result.output and "blog import-json" in result.output
    assert query(source, "SELECT count(*) FROM posts") == [(1,)]


def _hold_a_connection(app: Flask) -> Any:
    """Another process's connection to the blog's database, idle after a read."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    connection = engine.connect()
    connection.execute(text("SELECT count(*) FROM posts")).scalar()
    connection.commit()
    return connection


def test_restore_refuses_while_the_database_is_open_elsewhere(
    backup_file: Path, tmp_path: Path
) -> None:
    target = make_blog(tmp_path / "live")
    other_process = _hold_a_connection(target)
    try:
        result = _restore(target, backup_file)
    finally:
        other_process.close()
    assert result.exit_code == 1
    assert "open in another process" in result.output and "blog serve" in result.output
    assert query(target, "SELECT count(*) FROM posts") == [(0,)]
    assert query(target, "SELECT count(*) FROM users") == [(1,)]  # the admin


def test_restore_over_posts_needs_force_and_moves_the_change_counters_on(
    backup_file: Path, tmp_path: Path
) -> None:
    live = make_blog(tmp_path / "live", sample=True)
    with live.app_context(), writing():
        set_setting("title", "바뀐 제목")  # moves the public counter past the backup's
    with live.app_context():
        db.engine.dispose()
    old = rows_of(live)
    old_counters = dict(query(live, "SELECT name, value FROM change_counters"))
    schema = (
        "SELECT nspowner::regrole::text, nspacl::text FROM pg_namespace WHERE nspname = 'public'"
    )
    old_schema = query(live, schema) if on_postgresql() else None
    refused = _restore(live, backup_file)
    assert refused.exit_code == 1
    assert "holds 1 post(s)" in refused.output and "--force" in refused.output
    assert rows_of(live) == old

    result = _restore(live, backup_file, "--force")
    assert result.exit_code == 0, result.output
    assert "replacing 1 post(s)" in result.output
    restored = rows_of(live)
    titles = [value(row, "value") for row in restored["settings"] if value(row, "key") == "title"]
    assert titles == []  # the backed-up blog never stored a title; the live one did
    counters = dict(query(live, "SELECT name, value FROM change_counters"))
    assert counters["public"] > old_counters["public"]
    assert counters["sessions"] > old_counters.get("sessions", 0)
    if on_postgresql():  # made again with the owner and grants it had
        assert query(live, schema) == old_schema
    else:
        with closing(sqlite3.connect(database_of(live))) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
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
    file = tmp_path / "old.backup"
    result = old.test_cli_runner().invoke(args=["backup", str(file)])
    assert result.exit_code == 0, result.output
    assert f"schema {older}" in result.output
    target = create_app(app_config(tmp_path / "new"), instance_path=str(tmp_path / "new" / "i"))
    result = _restore(target, file)
    assert result.exit_code == 0, result.output
    assert f"Upgrading its schema from {older} to {head}" in result.output
    assert query(target, "SELECT version_num FROM alembic_version") == [(head,)]


@pytest.mark.sqlite_only
def test_backup_refuses_to_overwrite_the_live_database(source: Flask) -> None:
    result = source.test_cli_runner().invoke(args=["backup", str(database_of(source))])
    assert result.exit_code == 1
    assert "is the live database itself" in result.output


@postgresql_only
def test_backup_without_pg_dump_names_the_package_to_install(
    source: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump on it
    result = source.test_cli_runner().invoke(args=["backup", str(tmp_path / "x.backup")])
    assert result.exit_code == 1
    assert "pg_dump is not installed" in result.output
    assert "apt-get install postgresql-client" in result.output
    assert "PostgreSQL 1" in result.output  # the server's version: the client's oldest
    assert not (tmp_path / "x.backup").exists()


@postgresql_only
def test_pg_dump_is_given_the_password_in_its_environment_never_on_its_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `ps` would show of the real pg_dump, recorded by a script in front of it."""
    config = app_config(tmp_path / "blog")
    # The test server's own password, which it checks (tests/postgres_server.py).
    password = make_url(config["SQLALCHEMY_DATABASE_URI"]).password
    assert password
    app = create_app(config, instance_path=str(tmp_path / "blog" / "instance"))
    initialised = app.test_cli_runner().invoke(args=["init"])
    assert initialised.exit_code == 0, initialised.output
    assert "Database: postgresql+psycopg://blog:***@" in initialised.output
    assert password not in initialised.output
    recorder = tmp_path / "bin" / "pg_dump"
    recorder.parent.mkdir()
    recorder.write_text(
        "#!/bin/sh\n"
        f'printf \'%s\\n\' "$0" "$@" > {tmp_path}/arguments\n'
        f"printf '%s' \"$PGPASSWORD\" > {tmp_path}/password\n"
        f'exec {shutil.which("pg_dump")} "$@"\n'
    )
    recorder.chmod(0o700)
    monkeypatch.setenv("PATH", f"{recorder.parent}:{os.environ['PATH']}")
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "x.backup")])
    assert result.exit_code == 0, result.output
    assert "1 post(s) with" in result.output and password not in result.output
    arguments = (tmp_path / "arguments").read_text(encoding="utf-8")
    assert "--format=custom" in arguments and password not in arguments
    assert (tmp_path / "password").read_text(encoding="utf-8") == password
    with app.app_context():
        db.engine.dispose()


def test_the_password_goes_to_pg_dump_in_its_environment_not_its_arguments() -> None:
    from blog.postgres_backups import connection_for

    url = make_url("postgresql+psycopg://blog:s3cr%27et@db.example.kr:5433/news?sslmode=require")
    conninfo, environment = connection_for(url)
    assert "s3cr" not in conninfo
    assert environment["PGPASSWORD"] == "s3cr'et"
    assert conninfo == ("host='db.example.kr' port='5433' user='blog' dbname='news' "
                        "sslmode='require'")  # fmt: skip


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
    [(counter,)] = query(live, "SELECT value FROM change_counters WHERE name = 'public'")
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
    env.update(database_env(tmp_path / "instance"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([blog, *args], env=env, capture_output=True, text=True, timeout=120)

    assert run("init").returncode == 0
    copy = tmp_path / "copy.backup"
    server = subprocess.Popen([blog, "serve"], env=env, stdout=subprocess.DEVNULL)
    try:
        assert "한·미 동맹" in _get_when_up(f"http://127.0.0.1:{port}/")
        backup = run("backup", str(copy))
        assert backup.returncode == 0, backup.stderr
        assert "1 post(s) with" in backup.stdout
        assert copy.stat().st_mode & 0o077 == 0  # owner only
        refused = run("restore", "--force", str(copy))
        assert refused.returncode == 1
        assert "open in another process" in refused.stderr
    finally:
        server.terminate()
        server.wait(timeout=20)
    restored = run("restore", "--force", str(copy))
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
    file = tmp_path / "with-key.backup"
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


@pytest.mark.parametrize(
    ("version", "guarded"),
    [("15.13", False), ("15.14", True), ("15.18 (Debian 15.18-0+deb12u1)", True),
     ("16.9", False), ("17.6", True), ("12.22", False), ("18.1", True)],
)  # fmt: skip
def test_restore_needs_a_pg_restore_that_fences_psql_meta_commands(
    tmp_path: Path, version: str, guarded: bool
) -> None:
    from blog.postgres_backups import check_guarded

    program = tmp_path / "pg_restore"
    program.write_text(f"#!/bin/sh\necho 'pg_restore (PostgreSQL) {version}'\n")
    program.chmod(0o700)
    if guarded:
        check_guarded(str(program))
    else:
        with pytest.raises(backups.BackupError, match="CVE-2025-8714"):
            check_guarded(str(program))
