"""The database seam: pragmas on every SQLite connection, writers that queue instead of failing
on either database, connections a PostgreSQL server dropped replaced."""

from __future__ import annotations

import threading

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from blog.auth.accounts import create_user
from blog.database import WriteOutsideTransaction, begin_statement, writing
from blog.extensions import db
from blog.models import Role, WorkingCopy
from tests.conftest import PASSWORD, MakePost, _Databases, on_postgresql
from tests.helpers_http import HttpBrowser
from tests.postgres_server import _libpq


@pytest.mark.sqlite_only
def test_pragmas_are_set_on_every_connection(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10000


def test_writes_take_the_lock_up_front_and_reads_do_not(app: Flask) -> None:
    with app.test_request_context("/admin/preview", method="POST"):
        # A POST that only reads (the live preview) no longer takes the write lock.
        assert begin_statement() == "BEGIN"
        with writing():
            assert begin_statement() == "BEGIN IMMEDIATE"
        assert begin_statement() == "BEGIN"


def test_a_write_outside_writing_is_refused(app: Flask) -> None:
    with app.app_context():
        db.session.add(WorkingCopy(user_id=1, post_key="new", fields={}))
        with pytest.raises(WriteOutsideTransaction):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(WriteOutsideTransaction):
            db.session.execute(text("DELETE FROM working_copies"))
        db.session.rollback()


def test_changes_made_before_writing_are_refused_not_lost(app: Flask) -> None:
    with app.app_context():
        db.session.add(WorkingCopy(user_id=1, post_key="new", fields={}))
        with pytest.raises(WriteOutsideTransaction), writing():
            pass
        db.session.rollback()


def test_concurrent_saves_queue_instead_of_failing(app: Flask, live_server: str) -> None:
    """Eight writers at once on a real server: every one answered, every one stored."""
    names = [f"writer{n}" for n in range(8)]
    with app.app_context(), writing():
        for name in names:
            create_user(name, PASSWORD, Role.AUTHOR)
    browsers = [HttpBrowser(live_server) for _ in names]
    for browser, name in zip(browsers, names, strict=True):
        browser.sign_in(name, PASSWORD)
    statuses: list[int] = []
    barrier = threading.Barrier(len(browsers))

    def write(browser: HttpBrowser, number: int) -> None:
        barrier.wait()
        for round_number in range(5):
            answer = browser.request(
                "/admin/posts/new/autosave",
                {"title": f"{number}-{round_number}"},
                headers={"HX-Request": "true"},
            )
            statuses.append(answer.status)

    threads = [threading.Thread(target=write, args=(b, n)) for n, b in enumerate(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 40
    with app.app_context():
        titles = sorted(w.fields["title"] for w in db.session.query(WorkingCopy))
    assert titles == sorted(f"{n}-4" for n in range(8))


@pytest.mark.sqlite_only
def test_each_connection_keeps_one_mebibyte_of_pages(app: Flask) -> None:
    with app.app_context():
        assert db.session.execute(text("PRAGMA cache_size")).scalar() == -1024


@pytest.mark.skipif(not on_postgresql(), reason="a database server's connections")
def test_connections_the_server_dropped_are_replaced_without_an_error(
    app: Flask, make_post: MakePost
) -> None:
    """PostgreSQL restarted, or a proxy dropped idle connections: the app's pooled ones and
    the change watcher's are replaced, and no reader sees an error."""
    slug = make_post(title="다시 연결")
    reader = app.test_client()
    assert reader.get("/").status_code == 200  # the pool and the watcher each hold one
    admin = psycopg.connect(_libpq(_Databases.server.admin_url), autocommit=True)
    with admin:
        ended = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
            (make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database,),
        ).fetchone()[0]
    assert ended >= 2
    for path in (f"/posts/{slug}", "/", f"/posts/{slug}"):
        answer = reader.get(path)
        assert answer.status_code == 200 and "다시 연결" in answer.text
