"""Every editor route checks the role on the server: allowed and forbidden, per role."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from blog.extensions import db
from blog.models import Post
from tests.conftest import Login, post_form
from tests.editor.test_editing import edit_form, new_post, post_id_from


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("contributor", False), ("author", True), ("editor", True), ("admin", True)],
)
def test_only_authors_and_up_publish(
    client: FlaskClient, login: Login, role: str, allowed: bool
) -> None:
    login(role)
    response = new_post(client, status="published")
    if allowed:
        assert response.status_code == 303
    else:
        assert response.status_code == 422
        assert "Your role can save drafts and submit them for review" in response.text


def test_contributor_writes_drafts_and_cannot_touch_them_once_published(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("contributor")
    post_id = post_id_from(new_post(client, status="draft"))
    editor = app.test_client()
    login("editor", browser=editor)
    form = edit_form(editor, post_id)
    form["status"] = "published"
    assert post_form(editor, f"/admin/posts/{post_id}/edit", form).status_code == 303
    assert client.get(f"/admin/posts/{post_id}/edit").status_code == 403
    assert post_form(client, f"/admin/posts/{post_id}/edit", form).status_code == 403
    assert post_form(client, f"/admin/posts/{post_id}/delete").status_code == 403


def test_authors_edit_only_their_own_posts(
    app: Flask, client: FlaskClient, login: Login, make_post: Any
) -> None:
    login("author")
    someone_elses = make_post(title="Not mine")
    with app.app_context():
        post_id = db.session.query(Post.id).filter_by(slug=someone_elses).scalar()
    assert client.get(f"/admin/posts/{post_id}/edit").status_code == 403
    assert (
        post_form(
            client, f"/admin/posts/{post_id}/edit", {"title": "x", "version": "1"}
        ).status_code
        == 403
    )
    assert post_form(client, f"/admin/posts/{post_id}/delete").status_code == 403
    assert client.get(f"/admin/posts/{post_id}/revisions").status_code == 403
    assert post_form(client, f"/admin/posts/{post_id}/autosave", {"title": "x"}).status_code == 403
    assert "Not mine" not in client.get("/admin/").text


def test_editors_edit_everyone_s_posts(
    app: Flask, client: FlaskClient, login: Login, make_post: Any
) -> None:
    login("editor")
    slug = make_post(title="Someone's")
    with app.app_context():
        post_id = db.session.query(Post.id).filter_by(slug=slug).scalar()
    assert client.get(f"/admin/posts/{post_id}/edit").status_code == 200
    assert (
        "Someone&#39;s" in client.get("/admin/").text or "Someone's" in client.get("/admin/").text
    )


@pytest.mark.parametrize(
    ("path", "minimum"),
    [("/admin/trash", "contributor"), ("/admin/taxonomy", "editor"), ("/admin/users", "admin"),
     ("/admin/settings", "admin"), ("/admin/audit", "admin")],
)  # fmt: skip
def test_pages_need_their_role(app: Flask, login: Login, path: str, minimum: str) -> None:
    order = ["contributor", "author", "editor", "admin"]
    for role in order:
        browser = app.test_client()
        login(role, username=f"{role}-{path.strip('/').replace('/', '-')}", browser=browser)
        expected = 200 if order.index(role) >= order.index(minimum) else 403
        assert browser.get(path).status_code == expected, (role, path)


def test_emptying_the_trash_is_for_admins(app: Flask, client: FlaskClient, login: Login) -> None:
    login("editor")
    assert post_form(client, "/admin/trash/empty").status_code == 403


def test_contributors_see_their_published_posts_without_an_edit_link(
    app: Flask, client: FlaskClient, login: Login, make_post: Any
) -> None:
    contributor_id = login("contributor")
    make_post(title="Went out", author_id=contributor_id, status="published")
    make_post(title="Still mine", author_id=contributor_id, status="draft")
    html = client.get("/admin/").text
    assert "Went out <small" in html and ">Still mine</a>" in html
