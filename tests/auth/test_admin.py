"""Admins manage users, reset links, site settings and read the audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from blog.auth.accounts import find_user
from blog.extensions import db
from blog.models import AuditEvent, User
from tests.conftest import Login, post_form, token_from


def audit_actions(app: Flask) -> list[str]:
    with app.app_context():
        return [
            e.action
            for e in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
        ]


def test_admin_adds_a_user_who_can_sign_in_with_the_shown_password(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("admin")
    response = post_form(
        client,
        "/admin/users",
        {"username": "new-author", "role": "author", "email": "A@Example.com"},
    )
    assert response.status_code == 200
    password = re.search(r'<code class="secret">([^<]+)</code>', response.text)[1]  # type: ignore[index]
    fresh = app.test_client()
    token = token_from(fresh.get("/login").text)
    signed_in = fresh.post(
        "/login", data={"login": "a@example.com", "password": password, "csrf_token": token}
    )
    assert signed_in.status_code == 303
    assert "user.create" in audit_actions(app)


def test_duplicate_user_name_is_refused_with_the_form_kept(
    client: FlaskClient, login: Login
) -> None:
    login("admin")
    response = post_form(client, "/admin/users", {"username": "ADMIN", "role": "author"})
    assert response.status_code == 422 and "already taken" in response.text
    assert 'value="ADMIN"' in response.text


def test_admin_changes_a_role_and_it_is_audited(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    author_id = login("author", browser=app.test_client())
    login("admin")
    response = post_form(client, f"/admin/users/{author_id}", {"role": "editor", "active": "y"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(User, author_id).role == "editor"  # type: ignore[union-attr]
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "user.role")
        ).scalar_one()
        assert event.detail == {"old": "author", "new": "editor"} and event.target == "author"


def test_admin_cannot_demote_themselves(app: Flask, client: FlaskClient, login: Login) -> None:
    admin_id = login("admin")
    post_form(client, f"/admin/users/{admin_id}", {"role": "author", "active": "y"})
    with app.app_context():
        assert db.session.get(User, admin_id).role == "admin"  # type: ignore[union-attr]


def test_reset_link_works_once_and_expires(app: Flask, client: FlaskClient, login: Login) -> None:
    author_id = login("author", browser=app.test_client())
    login("admin")
    page = post_form(client, f"/admin/users/{author_id}/reset-link")
    link = re.search(r'<code class="secret">http://localhost(/reset/[^<]+)</code>', page.text)[1]  # type: ignore[index]
    visitor = app.test_client()
    form = visitor.get(link)
    assert form.status_code == 200
    token = token_from(form.text)
    mismatch = visitor.post(
        link, data={"password": "long enough one", "confirm": "different", "csrf_token": token}
    )
    assert mismatch.status_code == 422 and "The passwords differ." in mismatch.text
    done = visitor.post(
        link,
        data={"password": "long enough one", "confirm": "long enough one", "csrf_token": token},
    )
    assert done.status_code == 303
    assert visitor.get(link).status_code == 410  # used once
    with app.app_context():
        from blog.auth.accounts import check_password

        assert check_password(db.session.get(User, author_id), "long enough one")  # type: ignore[arg-type]

    later = post_form(client, f"/admin/users/{author_id}/reset-link")
    second = re.search(r"http://localhost(/reset/[^<]+)</code>", later.text)[1]  # type: ignore[index]
    app.config["CLOCK"] = lambda: datetime.now(UTC) + timedelta(hours=25)
    assert visitor.get(second).status_code == 410


def test_only_admins_reach_user_settings_and_audit_pages(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    for path in ("/admin/users", "/admin/settings", "/admin/audit"):
        assert client.get(path).status_code == 403, path
    assert post_form(client, "/admin/users", {"username": "x", "role": "admin"}).status_code == 403
    assert post_form(client, "/admin/settings", {"title": "Hijacked"}).status_code == 403


def test_settings_change_the_site(app: Flask, client: FlaskClient, login: Login) -> None:
    login("admin")
    response = post_form(
        client,
        "/admin/settings",
        {
            "title": "우리 신문",
            "description": "동네 소식",
            "language": "ko",
            "timezone": "UTC",
            "posts_per_page": "5",
        },
    )
    assert response.status_code == 303
    home = app.test_client().get("/")
    assert "우리 신문" in home.text and '<html lang="ko">' in home.text
    assert "아직 글이 없습니다." in home.text  # the interface follows the site's language


def test_invalid_settings_come_back_with_the_problem_named(
    client: FlaskClient, login: Login
) -> None:
    login("admin")
    response = post_form(
        client,
        "/admin/settings",
        {"title": "", "language": "ko", "timezone": "UTC", "posts_per_page": "0"},
    )
    assert response.status_code == 422
    assert response.text.count('class="field-error"') >= 2


def test_user_language_overrides_the_site(app: Flask, client: FlaskClient, login: Login) -> None:
    login("author")
    post_form(
        client,
        "/account",
        {"profile-language": "ko", "profile-display_name": "홍길동", "profile-submit": "1"},
    )
    assert "새 글" in client.get("/admin/").text  # "New post" in Korean
    assert (
        "New post" in app.test_client().get("/login").text
        or "Sign in" in app.test_client().get("/login").text
    )


def test_cli_create_user_and_reset_password(app: Flask, runner: FlaskCliRunner) -> None:
    created = runner.invoke(args=["create-user", "reporter", "--role", "contributor"])
    assert (
        created.exit_code == 0
        and "Created contributor 'reporter' with password: " in created.output
    )
    duplicate = runner.invoke(args=["create-user", "reporter"])
    assert duplicate.exit_code == 1 and "already taken" in duplicate.output
    reset = runner.invoke(args=["reset-password", "reporter", "--password", "chosen password 1"])
    assert reset.exit_code == 0
    short = runner.invoke(args=["reset-password", "reporter", "--password", "short"])
    assert short.exit_code == 1 and "at least 10" in short.output
    with app.app_context():
        from blog.auth.accounts import check_password

        user = find_user("reporter")
        assert user is not None and user.role == "contributor"
        assert check_password(user, "chosen password 1")


def test_the_settings_page_says_the_title_is_changed_there(
    client: FlaskClient, login: Login
) -> None:
    login("admin")
    page = client.get("/admin/settings").text
    assert "Change it here: BLOG_TITLE only sets it on the first `blog init`." in page
