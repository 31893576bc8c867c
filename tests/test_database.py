"""The SQLite seam: pragmas on every connection, and writers that queue instead of failing."""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.parse
import urllib.request

from flask import Flask
from sqlalchemy import text

from blog.auth.accounts import create_user
from blog.database import _begin_statement
from blog.extensions import db
from blog.models import Role, WorkingCopy
from tests.conftest import PASSWORD


def test_pragmas_are_set_on_every_connection(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10000


def test_writes_take_the_lock_up_front_and_reads_do_not(app: Flask) -> None:
    with app.test_request_context("/", method="GET"):
        assert _begin_statement() == "BEGIN"
    with app.test_request_context("/admin/posts/new", method="POST"):
        assert _begin_statement() == "BEGIN IMMEDIATE"
    with app.app_context():
        assert _begin_statement() == "BEGIN IMMEDIATE"  # CLI commands write


def _signed_in_opener(base: str, username: str) -> tuple[urllib.request.OpenerDirector, str]:
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]  # type: ignore[index]
    data = urllib.parse.urlencode({"login": username, "password": PASSWORD, "csrf_token": token})
    opener.open(base + "/login", data.encode()).read()
    page = opener.open(base + "/account").read().decode()
    return opener, re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]  # type: ignore[index]


def test_concurrent_saves_queue_instead_of_failing(app: Flask, live_server: str) -> None:
    """Eight writers at once on a real server: every one answered, every one stored."""
    names = [f"writer{n}" for n in range(8)]
    with app.app_context():
        for name in names:
            create_user(name, PASSWORD, Role.AUTHOR)
        db.session.commit()
    openers = [_signed_in_opener(live_server, name) for name in names]
    statuses: list[int] = []
    barrier = threading.Barrier(len(openers))

    def write(opener: urllib.request.OpenerDirector, token: str, number: int) -> None:
        barrier.wait()
        for round_number in range(5):
            data = urllib.parse.urlencode(
                {"csrf_token": token, "title": f"{number}-{round_number}"}
            )
            request = urllib.request.Request(
                live_server + "/admin/posts/new/autosave",
                data.encode(),
                headers={"HX-Request": "true"},
            )
            statuses.append(opener.open(request, timeout=30).status)

    threads = [threading.Thread(target=write, args=(o, t, n)) for n, (o, t) in enumerate(openers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 40
    with app.app_context():
        titles = sorted(w.fields["title"] for w in db.session.query(WorkingCopy))
    assert titles == sorted(f"{n}-4" for n in range(8))
