"""No lost updates: a stale save gets 409, keeps the user's text and shows the other version."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from blog.extensions import db
from blog.models import Post
from tests.conftest import Login, post_form
from tests.editor.test_editing import edit_form, new_post, post_id_from


def test_stale_save_is_refused_with_both_texts_and_a_diff(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor", username="kim")
    other = app.test_client()
    login("editor", username="lee", browser=other)
    post_id = post_id_from(new_post(client, body="첫 줄\n둘째 줄\n셋째 줄"))
    mine = edit_form(client, post_id)
    theirs = edit_form(other, post_id)

    theirs["body"] = "첫 줄\n이가 고친 둘째 줄\n셋째 줄"
    assert post_form(other, f"/admin/posts/{post_id}/edit", theirs).status_code == 303

    mine["body"] = "첫 줄\n둘째 줄\n셋째 줄\n김이 덧붙인 넷째 줄"
    response = post_form(client, f"/admin/posts/{post_id}/edit", mine)
    assert response.status_code == 409
    assert "Someone else saved this post while you were editing" in response.text
    assert "김이 덧붙인 넷째 줄" in response.text  # my text, intact, in the form
    assert "이가 고친 둘째 줄" in response.text  # their version, shown
    assert '<span class="diff-added">+ 김이 덧붙인 넷째 줄</span>' in response.text
    assert '<span class="diff-removed">- 이가 고친 둘째 줄</span>' in response.text
    assert "(lee)" in response.text
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post is not None and "이가 고친 둘째 줄" in post.source and "넷째" not in post.source

    # The 409 form carries their version, so a hand merge saves cleanly.
    version = response.text.split('name="version" type="hidden" value="')[1].split('"')[0]
    assert version == "2"
    mine["version"] = version
    mine["body"] = "첫 줄\n이가 고친 둘째 줄\n셋째 줄\n김이 덧붙인 넷째 줄"
    assert post_form(client, f"/admin/posts/{post_id}/edit", mine).status_code == 303
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post is not None and post.version == 3
        assert post.source == "첫 줄\n이가 고친 둘째 줄\n셋째 줄\n김이 덧붙인 넷째 줄"


def test_missing_version_is_treated_as_stale(client: FlaskClient, login: Login) -> None:
    login("editor")
    post_id = post_id_from(new_post(client))
    form = edit_form(client, post_id)
    form["version"] = ""
    assert post_form(client, f"/admin/posts/{post_id}/edit", form).status_code == 409


def test_editing_different_posts_never_conflicts(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor", username="kim")
    other = app.test_client()
    login("editor", username="lee", browser=other)
    first = post_id_from(new_post(client, title="One"))
    second = post_id_from(new_post(other, title="Two"))
    mine, theirs = edit_form(client, first), edit_form(other, second)
    mine["body"], theirs["body"] = "mine", "theirs"
    assert post_form(other, f"/admin/posts/{second}/edit", theirs).status_code == 303
    assert post_form(client, f"/admin/posts/{first}/edit", mine).status_code == 303


def test_the_conflict_shows_their_version_as_readers_see_it_sanitised(
    client: FlaskClient, login: Login
) -> None:
    """For a writer in visual mode, who may not read the HTML source."""
    login("editor", username="kim")
    post_id = post_id_from(new_post(client, body="<p>처음</p>"))
    mine = edit_form(client, post_id)
    theirs = edit_form(client, post_id)
    theirs["format"] = mine["format"] = "html"
    theirs["body"] = '<p>상대가 <b>굵게</b> 고침<img src="/x.png" onerror="alert(1)"></p>'
    assert post_form(client, f"/admin/posts/{post_id}/edit", theirs).status_code == 303
    mine["body"] = "<p>내가 고침</p>"
    response = post_form(client, f"/admin/posts/{post_id}/edit", mine)
    assert response.status_code == 409
    rendering = response.text.split('<details class="their-rendering">')[1].split("</details>")[0]
    assert "Their version as readers see it" in rendering
    assert '<div class="post-body" hx-disable><p>상대가 <b>굵게</b> 고침<img' in rendering
    assert "onerror" not in rendering
