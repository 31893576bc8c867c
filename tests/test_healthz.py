"""/healthz: database reachable and schema current, or 503 saying which; never cached."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from blog.extensions import db
from blog.schema_state import head_revision
from tests.conftest import drop_database_of, on_postgresql
from tests.test_schema_state import FIRST_REVISION, stamp


def test_a_healthy_blog(app: Flask, client: FlaskClient) -> None:
    stamp(app, head_revision())
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok", "database": "ok", "schema": "current"}
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.mimetype == "application/json"


def test_each_answer_looks_again_the_page_cache_keeps_none(app: Flask, client: FlaskClient) -> None:
    stamp(app, head_revision())
    assert client.get("/healthz").status_code == 200
    stamp(app, FIRST_REVISION)  # an older code's database put back in place
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "failing", "database": "ok", "schema": "older"}
    stamp(app, "fedcba987654")
    assert client.get("/healthz").get_json()["schema"] == "newer"


def test_an_unreadable_database_is_reported_without_details(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    stamp(app, head_revision())
    with app.app_context():
        db.engine.dispose()
    if on_postgresql():  # the database is gone from the server
        drop_database_of(app)
    else:
        (tmp_path / "blog.sqlite3").write_bytes("\x00not a database, 한국어".encode() * 100)
    answer = client.get("/healthz?x=%00" + "가" * 10_000)
    assert answer.status_code == 503
    assert answer.get_json() == {
        "status": "failing", "database": "unreachable", "schema": "unknown"
    }  # fmt: skip
    assert answer.headers["Cache-Control"] == "no-store"
    assert str(tmp_path) not in answer.get_data(as_text=True)
