"""Names, e-mails and passwords as the review attacked them; reset links and the Host header."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from blog import create_app
from blog.auth.accounts import AccountError, check_new_password, create_user
from blog.database import writing
from blog.extensions import db
from blog.models import Role, User
from blog.security import public_url
from tests.conftest import PASSWORD, Login, post_form, token_from

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize(
    "username", ["nul\x00user", "bell\x07", "rlo\u202euser", "zero\u200bwidth", "two words",
                 "\ufeffbom", "a" * 81],
)  # fmt: skip
def test_user_names_with_invisible_characters_are_refused(
    client: FlaskClient, login: Login, username: str
) -> None:
    login("admin")
    response = post_form(client, "/admin/users", {"username": username, "role": "author",
                                                   "display_name": "김기자"})  # fmt: skip
    assert response.status_code == 422
    assert "김기자" in response.text
    problems = r"invisible control character|cannot contain spaces|longer than 80"
    assert re.search(problems, response.text)


def test_a_decomposed_hangul_name_signs_in_as_typed_on_another_keyboard(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("admin")
    response = post_form(
        client, "/admin/users", {"username": "\u1112\u1161\u11ab", "role": "author"}
    )
    password = re.search(r'<code class="secret">([^<]+)</code>', response.text)[1]  # type: ignore[index]
    visitor = app.test_client()
    token = token_from(visitor.get("/login").text)
    signed_in = visitor.post(
        "/login", data={"login": "한", "password": password, "csrf_token": token}
    )
    assert signed_in.status_code == 303


@pytest.mark.parametrize(
    ("password", "problem"),
    [("aaaaaaaaaaaa", "different characters"), ("abababababab", "different characters"),
     ("1234567890", "different characters"), ("abcdefghijkl", "different characters"),
     ("short", "at least 10"), ("x" * 100 + "yzwvu" * 40, "at most 256")],
)  # fmt: skip
def test_weak_or_absurd_passwords_are_refused(password: str, problem: str) -> None:
    with pytest.raises(AccountError, match=problem):
        check_new_password(password)


def test_a_password_may_not_contain_the_user_name() -> None:
    with pytest.raises(AccountError, match="user name"):
        check_new_password("my reporter pass", "reporter")
    check_new_password("correct horse battery", "reporter")


def test_account_page_refuses_another_user_s_e_mail_without_naming_them(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    other = login("author", username="other", browser=app.test_client())
    with app.app_context(), writing():
        db.session.get(User, other).email = "taken@example.kr"  # type: ignore[union-attr]
    login("author", username="me")
    profile = {"profile-display_name": "나 기자", "profile-email": "Taken@Example.kr",
               "profile-language": "", "profile-submit": "1"}  # fmt: skip
    response = post_form(client, "/account", profile)
    assert response.status_code == 422
    assert "cannot be used for your account" in response.text and "나 기자" in response.text
    assert "other" not in response.text.split("<main", 1)[1]


def test_a_new_reset_link_revokes_the_older_one(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    author_id = login("author", browser=app.test_client())
    login("admin")
    links = [
        re.search(r"http://localhost(/reset/[^<]+)</code>",
                  post_form(client, f"/admin/users/{author_id}/reset-link").text)[1]  # type: ignore[index]
        for _ in range(2)
    ]  # fmt: skip
    visitor = app.test_client()
    assert visitor.get(links[0]).status_code == 410
    assert visitor.get(links[1]).status_code == 200


def test_a_password_change_revokes_outstanding_reset_links(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    author = app.test_client()
    author_id = login("author", browser=author)
    login("admin")
    page = post_form(client, f"/admin/users/{author_id}/reset-link")
    link = re.search(r"http://localhost(/reset/[^<]+)</code>", page.text)[1]  # type: ignore[index]
    changed = post_form(author, "/account", {"password-current_password": PASSWORD,
                                             "password-password": "a brand new secret",
                                             "password-confirm": "a brand new secret",
                                             "password-submit": "1"})  # fmt: skip
    assert changed.status_code == 303
    assert app.test_client().get(link).status_code == 410


def test_an_untrusted_host_header_is_refused(client: FlaskClient) -> None:
    response = client.get("/login", headers={"Host": "evil.example"})
    assert response.status_code == 400 and "host" in response.text
    assert client.get("/login", headers={"Host": "localhost:8000"}).status_code == 200


def test_links_come_from_the_base_url_whatever_the_host(tmp_path: Path) -> None:
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "BLOG_BASE_URL": "https://news.example.kr",
         "TRUSTED_HOSTS": None, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'b.db'}"},
        instance_path=str(tmp_path / "instance"),
    )  # fmt: skip
    with app.test_request_context("/", headers={"Host": "evil.example"}):
        assert public_url("/reset/x") == "https://news.example.kr/reset/x"
    with app.app_context():
        db.create_all()
        with writing():
            create_user("boss", PASSWORD, Role.ADMIN)
            target_id = create_user("writer", PASSWORD, Role.AUTHOR).id
    client = app.test_client()
    token = token_from(client.get("/login").text)
    client.post("/login", data={"login": "boss", "password": PASSWORD, "csrf_token": token})
    client.csrf_token = token_from(client.get("/account").text)  # type: ignore[attr-defined]
    page = post_form(client, f"/admin/users/{target_id}/reset-link")
    assert "https://news.example.kr/reset/" in page.text


def test_the_domain_imports_no_web_layer() -> None:
    code = (
        "import sys, blog.content.publish, blog.content.posts, blog.content.media, "
        "blog.content.jekyll.importer, blog.database\n"
        "web = [m for m in sys.modules if m.startswith(('blog.auth', 'blog.editor', "
        "'blog.public', 'blog.errors', 'blog.security', 'blog.templating'))]\n"
        "assert not web, web"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
