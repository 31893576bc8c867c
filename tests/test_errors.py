"""Error pages: friendly, in the site's language, never a stack trace or configuration."""

from __future__ import annotations

import subprocess
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

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
    assert_friendly(no_token, 400, "Nothing was saved.")
    assert_friendly(client.get("/boom"), 500, "Nothing you wrote was lost.")
    login("contributor")
    assert_friendly(client.get("/admin/users"), 403, "You are not allowed to do that.")
    app.config["MAX_CONTENT_LENGTH"] = 1000
    assert_friendly(post_form(client, "/admin/preview", {"body": "x" * 5000}), 413, "too large")


def _signed_out_elsewhere(app: Flask, client: FlaskClient, login: Login) -> str:
    """Sign in, open the editor, sign out as another tab would; returns the editor's stale token."""
    app.config["BLOG_LANGUAGE"] = "ko"
    login("author")
    token = token_from(client.get("/admin/posts/new").text)
    assert post_form(client, "/logout").status_code == 303
    return token


def test_lost_session_on_save_hands_the_text_back_in_korean(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    token = _signed_out_elsewhere(app, client, login)
    form = {
        "csrf_token": token,
        "title": "해운대 <b>산책</b>",
        "excerpt": "짧은 요약",
        "body": "본문 첫 줄\n<script>alert(1)</script>",
        "status": "draft",
    }
    referer = {"Referer": "http://localhost/admin/posts/new?from=dashboard"}
    response = client.post("/admin/posts/new", data=form, headers=referer)
    text = response.text
    assert response.status_code == 400
    assert "로그인이 끝났거나" in text and "저장되지 않았습니다" in text
    assert "자동으로 보관해 둔 사본" in text
    for english in ("CSRF", "token", "The request could not be understood"):
        assert english not in text, english
    # Every field is handed back escaped, read-only, and never as markup.
    assert "<script>alert(1)</script>" not in text and "<b>산책</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "해운대 &lt;b&gt;산책&lt;/b&gt;" in text
    assert text.count("<textarea readonly") == 3 and "짧은 요약" in text
    assert 'href="/login?next=/admin/posts/new?from%3Ddashboard"' in text


def test_lost_session_sign_in_link_stays_on_this_site(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    token = _signed_out_elsewhere(app, client, login)
    for referer in ("https://evil.example/admin/", "//evil.example/x", "javascript:alert(1)"):
        form = {"csrf_token": token, "body": "x"}
        response = client.post("/admin/posts/new", data=form, headers={"Referer": referer})
        assert response.status_code == 400
        assert 'href="/login?next=/admin/posts/new"' in response.text, referer
        assert "evil.example" not in response.text and "javascript:" not in response.text


def test_lost_session_on_autosave_is_one_plain_korean_sentence(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    token = _signed_out_elsewhere(app, client, login)
    response = client.post(
        "/admin/posts/new/autosave",
        data={"body": "본문"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert "HX-Request" in response.vary
    assert response.text.startswith("자동 보관하지 못했습니다") and "<" not in response.text
    assert "CSRF" not in response.text


def test_errors_inside_admin_keep_the_admin_navigation(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    app.config["BLOG_LANGUAGE"] = "ko"
    login("author", username="reporter")
    for path, code in (("/admin/taxonomy", 403), ("/admin/no-such-page", 404)):
        response = client.get(path)
        assert response.status_code == code, path
        assert 'class="admin-nav"' in response.text and ">글 목록으로</a>" in response.text
        assert f'<p class="error-code">{code}</p>' in response.text
    # Outside /admin, and for visitors, the public page as before.
    public = client.get("/no-such-page")
    assert 'class="admin-nav"' not in public.text and "첫 페이지로" in public.text
    client.post("/logout", data={"csrf_token": client.csrf_token})  # type: ignore[attr-defined]
    visitor = client.get("/admin/no-such-page")
    assert visitor.status_code in (302, 404) and 'class="admin-nav"' not in visitor.text


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


def test_the_repository_carries_no_secret_key_or_database() -> None:
    root = Path(__file__).parents[1]
    tracked = subprocess.run(
        ["git", "ls-files", "instance"], cwd=root, capture_output=True, text=True
    )
    assert tracked.returncode != 0 or tracked.stdout.split() in ([], ["instance/.gitkeep"])
    assert "/instance/*" in (root / ".gitignore").read_text()
