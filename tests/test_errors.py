"""Error pages: friendly, in the site's language, never a stack trace or configuration."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from blog import create_app
from tests.conftest import Login, post_form, token_from


def assert_friendly(response: object, code: int, words: str) -> None:
    text = response.text  # type: ignore[attr-defined]
    assert response.status_code == code  # type: ignore[attr-defined]
    assert words in text and f'<p class="error-code">{code}</p>' in text
    for leak in ("Traceback", 'File "', "SECRET_KEY", "sqlite:///", "Werkzeug", "secret detail"):
        assert leak not in text, leak


def test_each_error_page(app: Flask, client: FlaskClient, login: Login) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # behave as in production

    @app.get("/boom")
    def boom() -> str:
        raise ZeroDivisionError("secret detail")

    assert_friendly(client.get("/nowhere"), 404, "This page does not exist")
    assert_friendly(client.get("/logout"), 405, "That method is not allowed here.")
    no_token = client.post("/login", data={"login": "x"})
    assert_friendly(no_token, 400, "The request could not be understood.")
    assert_friendly(client.get("/boom"), 500, "Nothing you wrote was lost.")
    login("contributor")
    assert_friendly(client.get("/admin/users"), 403, "You are not allowed to do that.")
    app.config["MAX_CONTENT_LENGTH"] = 1000
    assert_friendly(post_form(client, "/admin/preview", {"body": "x" * 5000}), 413, "too large")


def test_too_many_requests_page(app: Flask, client: FlaskClient) -> None:
    token = token_from(client.get("/login").text)
    for _ in range(10):
        client.post("/login", data={"login": "someone", "password": "no", "csrf_token": token})
    attempt = {"login": "someone", "password": "wrong", "csrf_token": token}
    response = client.post("/login", data=attempt)
    # The sign-in form again, with the name kept and the reason said.
    assert response.status_code == 429
    assert "Too many failed attempts" in response.text and 'value="someone"' in response.text


def test_error_pages_speak_the_site_language(app: Flask, client: FlaskClient) -> None:
    app.config["BLOG_LANGUAGE"] = "ko"
    assert_friendly(client.get("/nowhere"), 404, "페이지가 없거나 옮겨졌습니다.")


def test_secret_key_is_generated_once_into_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite://"}
    first = create_app(dict(config), instance_path=str(instance))
    key_file = instance / "secret_key"
    assert key_file.exists() and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) == 64
    second = create_app(dict(config), instance_path=str(instance))
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    other = create_app(dict(config), instance_path=str(tmp_path / "elsewhere"))
    assert other.config["SECRET_KEY"] != first.config["SECRET_KEY"]


def test_the_repository_carries_no_secret_key_or_database() -> None:
    root = Path(__file__).parents[1]
    tracked = subprocess.run(
        ["git", "ls-files", "instance"], cwd=root, capture_output=True, text=True
    )
    assert tracked.returncode != 0 or tracked.stdout.split() in ([], ["instance/.gitkeep"])
    assert "/instance/*" in (root / ".gitignore").read_text()
