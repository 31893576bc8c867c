"""The account page: a writer's byline (bio and picture), their role by its name, e-mails."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from blog.auth.accounts import AccountError, create_user, update_profile
from blog.database import writing
from blog.extensions import db
from blog.models import User
from tests.conftest import PASSWORD, Login, post_form


def profile(**fields: str) -> dict[str, str]:
    values = {"display_name": "김 기자", "email": "", "bio": "", "avatar": "", "language": ""}
    values.update(fields)
    return {f"profile-{name}": value for name, value in values.items()} | {"profile-submit": "1"}


def stored(app: Flask, user_id: int) -> User:
    """The user as stored, readable after the app context ends."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        return User(bio=user.bio, avatar=user.avatar, display_name=user.display_name)


def test_a_writer_sets_a_bio_and_a_picture(app: Flask, client: FlaskClient, login: Login) -> None:
    user_id = login("contributor", username="kim")
    bio = "사회부 기자.\r\n부산에서 일합니다."
    avatar = "/media/" + "a" * 64 + "/kim.jpg"
    response = post_form(client, "/account", profile(bio=bio, avatar=avatar))
    assert response.status_code == 303
    user = stored(app, user_id)
    assert user.bio == "사회부 기자.\n부산에서 일합니다." and user.avatar == avatar
    page = client.get("/account").text
    assert "사회부 기자." in page and avatar in page


def test_a_bio_is_plain_text_shown_escaped(app: Flask, client: FlaskClient, login: Login) -> None:
    user_id = login("author", username="kim")
    bio = "<script>alert(1)</script> & <b>bold</b>"
    assert post_form(client, "/account", profile(bio=bio)).status_code == 303
    assert stored(app, user_id).bio == bio  # stored as typed: it is text, not HTML
    page = client.get("/account").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("bio", "가" * 301, "at most 300 characters"),
        ("bio", "보이지 않는\u202e글자", "invisible control character"),
        ("avatar", "javascript:alert(1)", "https:// address"),
        ("avatar", "http://example.kr/me.jpg", "https:// address"),
        ("avatar", "data:image/png;base64,AAAA", "https:// address"),
        ("avatar", "//evil.example/me.jpg", "https:// address"),
        ("avatar", "/media/x\x00.jpg", "invisible control character"),
        ("avatar", "https://example.kr/" + "a" * 1000, "at most 1000 characters"),
    ],
)
def test_a_bad_bio_or_picture_is_refused_on_its_field_with_the_text_kept(
    app: Flask, client: FlaskClient, login: Login, field: str, value: str, problem: str
) -> None:
    user_id = login("author", username="kim")
    response = post_form(client, "/account", profile(**{field: value}))
    assert response.status_code == 422
    error = response.text.split(f'id="error-profile-{field}"', 1)[1].split("</p>", 1)[0]
    assert problem in error
    assert "김 기자" in response.text  # the other fields are kept too
    if "\x00" not in value:
        kept = value.replace("&", "&amp;")
        assert kept[:200] in response.text
    user = stored(app, user_id)
    assert user.bio == "" and user.avatar == "" and user.display_name == ""


def test_a_https_picture_is_accepted(app: Flask, client: FlaskClient, login: Login) -> None:
    user_id = login("author", username="kim")
    avatar = "https://img.example.kr/kim.jpg"
    assert post_form(client, "/account", profile(avatar=avatar)).status_code == 303
    assert stored(app, user_id).avatar == avatar


def test_the_account_page_names_the_role(client: FlaskClient, login: Login) -> None:
    login("admin")
    assert "Role: Administrator" in client.get("/account").text
    post_form(client, "/account", profile(language="ko"))
    page = client.get("/account").text
    assert "역할: 관리자" in page and "역할: admin" not in page


def test_the_users_page_names_the_roles_in_korean(client: FlaskClient, login: Login) -> None:
    login("admin")
    post_form(client, "/account", profile(language="ko"))
    page = client.get("/admin/users").text
    for label in ("기고자", "글쓴이", "편집자", "관리자"):
        assert f">{label}</option>" in page
    assert ">작성자</option>" not in page


def test_a_used_e_mail_is_named_on_the_e_mail_field_of_the_users_page(
    client: FlaskClient, login: Login
) -> None:
    login("admin")
    first = {"username": "kim", "email": "kim@example.kr", "role": "author"}
    assert post_form(client, "/admin/users", first).status_code == 200
    again = {"username": "lee", "email": "Kim@Example.kr", "role": "author",
             "display_name": "이 기자"}  # fmt: skip
    response = post_form(client, "/admin/users", again)
    assert response.status_code == 422
    error = response.text.split('id="error-email"', 1)[1].split("</p>", 1)[0]
    assert "kim@example.kr" in error and "already in use" in error
    assert "taken" not in response.text.split('id="error-username"', 1)[1].split("</p>", 1)[0]
    assert 'value="lee"' in response.text and 'value="이 기자"' in response.text


def test_a_taken_user_name_is_still_named_on_the_user_name_field(
    client: FlaskClient, login: Login
) -> None:
    login("admin")
    response = post_form(client, "/admin/users", {"username": "Admin", "role": "author"})
    assert response.status_code == 422
    error = response.text.split('id="error-username"', 1)[1].split("</p>", 1)[0]
    assert "user name “Admin” is already taken" in error


def test_create_user_names_the_e_mail_in_use(app: Flask) -> None:
    with app.app_context(), writing():
        create_user("kim", PASSWORD, email="kim@example.kr")
    with app.app_context(), pytest.raises(AccountError) as refused, writing():
        create_user("lee", PASSWORD, email="KIM@example.kr")
    assert refused.value.field == "email" and "already in use" in str(refused.value)


def test_the_account_page_says_a_used_e_mail_is_in_use_on_the_e_mail_field(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    other = login("author", username="other", browser=app.test_client())
    with app.app_context(), writing():
        db.session.get(User, other).email = "taken@example.kr"  # type: ignore[union-attr]
    login("author", username="me")
    response = post_form(client, "/account", profile(email="taken@example.kr", bio="내 소개"))
    assert response.status_code == 422
    error = response.text.split('id="error-profile-email"', 1)[1].split("</p>", 1)[0]
    assert "already in use" in error and "other" not in error
    assert "내 소개" in response.text


def test_update_profile_keeps_bio_and_picture_when_not_given(app: Flask) -> None:
    with app.app_context(), writing():
        user = create_user("kim", PASSWORD)
        user.bio, user.avatar = "소개", "https://img.example.kr/a.jpg"
        db.session.flush()
        user_id = user.id
    with app.app_context():
        user = db.session.get(User, user_id)
        update_profile(user, "김", "", None)
        assert (user.bio, user.avatar) == ("소개", "https://img.example.kr/a.jpg")
