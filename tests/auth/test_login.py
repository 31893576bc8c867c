"""Signing in and out, server-side sessions, rate limits and safe redirects."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, Login, post_form, token_from


def attempt(client: FlaskClient, login: str, password: str, next_url: str = "") -> object:
    token = token_from(client.get("/login").text)
    query = f"?next={next_url}" if next_url else ""
    return client.post(
        f"/login{query}", data={"login": login, "password": password, "csrf_token": token}
    )


def test_admin_pages_need_a_login(client: FlaskClient) -> None:
    response = client.get("/admin/posts/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_login_with_name_or_email_then_logout(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author", username="writer")
    assert client.get("/admin/").status_code == 200
    response = post_form(client, "/logout")
    assert response.status_code == 303
    assert client.get("/admin/").status_code == 302


def test_wrong_password_and_unknown_account_get_the_same_answer(
    client: FlaskClient, login: Login, app: Flask
) -> None:
    login("author", username="writer", browser=app.test_client())
    wrong = attempt(client, "writer", "not the password")
    unknown = attempt(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 422  # type: ignore[attr-defined]
    assert "The name or password is not right." in wrong.text  # type: ignore[attr-defined]
    assert wrong.text.count("not right") == unknown.text.count("not right")  # type: ignore[attr-defined]
    assert 'value="writer"' in wrong.text  # what the user typed is kept  # type: ignore[attr-defined]


def test_login_redirects_only_to_local_paths(client: FlaskClient, login: Login, app: Flask) -> None:
    login("author", username="writer", browser=app.test_client())
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = attempt(client, "writer", PASSWORD, evil)
        assert response.headers["Location"] == "/admin/"  # type: ignore[attr-defined]
        post_form_logout(client)
    good = attempt(client, "writer", PASSWORD, "/admin/media")
    assert good.headers["Location"] == "/admin/media"  # type: ignore[attr-defined]


def post_form_logout(client: FlaskClient) -> None:
    token = token_from(client.get("/account").text)
    client.post("/logout", data={"csrf_token": token})


def test_logout_ends_the_session_even_for_a_copied_cookie(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    stolen = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    stolen.set_cookie("session", cookie.value)
    assert stolen.get("/admin/").status_code == 200
    post_form(client, "/logout")
    assert stolen.get("/admin/").status_code == 302


def test_sign_out_everywhere_ends_every_session(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    other = app.test_client()
    attempt(other, "editor", PASSWORD)
    assert other.get("/admin/").status_code == 200
    post_form(client, "/account/sign-out-everywhere")
    assert other.get("/admin/").status_code == 302
    assert client.get("/admin/").status_code == 302


def test_password_change_signs_out_other_sessions_but_not_this_one(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    other = app.test_client()
    attempt(other, "author", PASSWORD)
    response = post_form(
        client,
        "/account",
        {"password-current_password": PASSWORD, "password-password": "a brand new secret",
         "password-confirm": "a brand new secret", "password-submit": "1"},
    )  # fmt: skip
    assert response.status_code == 303
    assert client.get("/admin/").status_code == 200
    assert other.get("/admin/").status_code == 302
    fresh = app.test_client()
    assert attempt(fresh, "author", "a brand new secret").status_code == 303  # type: ignore[attr-defined]


def test_wrong_current_password_keeps_the_form(client: FlaskClient, login: Login) -> None:
    login("author")
    response = post_form(
        client,
        "/account",
        {"password-current_password": "wrong", "password-password": "a brand new secret",
         "password-confirm": "a brand new secret", "password-submit": "1"},
    )  # fmt: skip
    assert response.status_code == 422 and "This is not your current password." in response.text


def test_deactivated_user_is_signed_out(app: Flask, client: FlaskClient, login: Login) -> None:
    author_id = login("author", browser=client)
    admin = app.test_client()
    login("admin", browser=admin)
    response = post_form(admin, f"/admin/users/{author_id}", {"role": "author"})  # active unchecked
    assert response.status_code == 303
    assert client.get("/admin/").status_code == 302
    assert attempt(app.test_client(), "author", PASSWORD).status_code == 422  # type: ignore[attr-defined]


def test_login_attempts_are_rate_limited_per_account(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author", username="target", browser=app.test_client())
    statuses = [attempt(client, "target", f"guess {n}").status_code for n in range(11)]  # type: ignore[attr-defined]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429
    # The right password from the same place is refused too until the window passes.
    assert attempt(client, "target", PASSWORD).status_code == 429  # type: ignore[attr-defined]


def test_session_cookie_is_httponly_and_lax(client: FlaskClient) -> None:
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_post_without_csrf_token_is_refused(client: FlaskClient, login: Login) -> None:
    login("admin")
    response = client.post("/admin/posts/new", data={"title": "x", "status": "draft"})
    assert response.status_code == 400
    htmx = client.post("/admin/preview", data={"body": "x"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 400
    ok = client.post(
        "/admin/preview",
        data={"body": "x"},
        headers={"HX-Request": "true", "X-CSRFToken": client.csrf_token},  # type: ignore[attr-defined]
    )
    assert ok.status_code == 200


def test_csrf_token_does_not_expire_during_a_long_writing_session(
    client: FlaskClient, login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    import itsdangerous.timed

    login("author")
    later = time.time() + 3 * 24 * 3600  # three days of writing
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    response = post_form(
        client, "/admin/preview", {"body": "still here"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "still here" in response.text
