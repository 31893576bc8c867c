"""Nothing is lost: a save that cannot be written says why and gives the text back."""

from __future__ import annotations

import re
import sqlite3
from html import unescape
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from blog import create_app
from blog.extensions import db
from blog.models import Post
from tests.conftest import Login, holding_the_write_lock, post_form, token_from


def db_file(app: Flask) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")


def same_blog(app: Flask, client: FlaskClient, tmp_path: Path, **config: object) -> FlaskClient:
    """A second app on the same database with other settings, signed in as `client` is."""
    other = create_app({**app.config, **config}, instance_path=str(tmp_path / "instance"))
    browser = other.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    browser.set_cookie("session", cookie.value)
    browser.csrf_token = token_from(browser.get("/admin/posts/new").text)  # type: ignore[attr-defined]
    return browser


def kept_fields(html: str) -> dict[str, str]:
    form = html.split('class="kept-form"', 1)[1]
    fields = dict(re.findall(r'<input type="(?:text|hidden)" name="([^"]+)" value="([^"]*)"', form))
    fields.update(re.findall(r'<textarea name="([^"]+)"[^>]*>([^<]*)</textarea>', form))
    return {name: unescape(value) for name, value in fields.items()}


def new_post_data(title: str, body: str) -> dict[str, str]:
    return {"title": title, "body": body, "format": "markdown", "status": "draft", "version": ""}


@pytest.mark.sqlite_only
def test_a_full_database_refuses_the_save_clearly_and_stays_intact(
    app: Flask, client: FlaskClient, login: Login, tmp_path: Path
) -> None:
    login("editor")
    for number in range(3):
        assert (
            post_form(
                client, "/admin/posts/new", new_post_data(f"Earlier {number}", "본문")
            ).status_code
            == 303
        )
    with app.app_context():
        pages = db.session.execute(text("PRAGMA page_count")).scalar_one()
        earlier = {p.title: p.source for p in db.session.execute(select(Post)).scalars()}
    browser = same_blog(app, client, tmp_path, SQLITE_MAX_PAGE_COUNT=pages)
    long_body = "아주 긴 본문입니다. " * 40_000
    response = post_form(browser, "/admin/posts/new", new_post_data("Too big", long_body))
    assert response.status_code == 503
    assert "The database is full, so nothing was saved." in response.text
    assert long_body.strip() in response.text.replace("&#39;", "'")
    with sqlite3.connect(db_file(app)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with app.app_context():
        db.session.expire_all()
        assert {p.title: p.source for p in db.session.execute(select(Post)).scalars()} == earlier


def test_a_save_that_cannot_get_the_lock_keeps_the_text(
    app: Flask, client: FlaskClient, login: Login, tmp_path: Path
) -> None:
    login("editor")
    impatient = same_blog(app, client, tmp_path, SQLITE_BUSY_TIMEOUT_MS=100)
    with holding_the_write_lock(app):  # someone else is writing, for longer than we wait
        response = post_form(
            impatient, "/admin/posts/new", new_post_data("Blocked", "지켜야 할 본문")
        )
    assert response.status_code == 503
    assert "The database is busy, so nothing was saved." in response.text
    assert "지켜야 할 본문" in response.text
    # The page holds the form as it was sent, token included: sending it again saves it.
    kept = kept_fields(response.text)
    assert kept["title"] == "Blocked" and kept["body"] == "지켜야 할 본문"
    assert impatient.post("/admin/posts/new", data=kept).status_code == 303
    with app.app_context():
        assert db.session.execute(select(func.count(Post.id))).scalar_one() == 1
