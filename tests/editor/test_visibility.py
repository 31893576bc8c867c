"""Each role sees only what it may edit: others' unpublished work never shows through."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from blog.content.media import media_url
from blog.extensions import db
from blog.models import Media, Post
from tests.conftest import Login, post_form
from tests.editor.test_editing import new_post, post_id_from


def _png() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (6, 6), (9, 9, 9)).save(output, "PNG")
    return output.getvalue()


def _editor_drafts_with_an_image(app: Flask, login: Login) -> tuple[FlaskClient, str]:
    editor = app.test_client()
    login("editor", browser=editor)
    upload = post_form(editor, "/admin/media", {"file": (io.BytesIO(_png()), "plan.png")},
                       content_type="multipart/form-data")  # fmt: skip
    assert upload.status_code == 303
    with app.app_context():
        image = media_url(db.session.execute(select(Media)).scalar_one())
    response = new_post(editor, title="비밀 인수 계획", slug="secret-plan",
                        body=f"![plan]({image})", categories="M&A 단독", tags="엠바고")  # fmt: skip
    assert response.status_code == 303
    return editor, image


def test_a_contributor_sees_no_one_else_s_drafts_anywhere(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    editor, image = _editor_drafts_with_an_image(app, login)
    assert "비밀 인수 계획" in editor.get("/admin/media").text  # the editor sees the usage
    login("contributor")
    assert new_post(client, title="내 기사", categories="사회").status_code == 303
    media = client.get("/admin/media").text
    assert "비밀 인수 계획" not in media and "plan.png" not in media
    dashboard = client.get("/admin/").text
    assert "M&amp;A 단독" not in dashboard and "사회" in dashboard
    suggestion = client.get("/admin/slug-suggestion?title=secret plan").text
    assert "secret-plan-2" not in suggestion and "secret-plan" in suggestion
    checked = post_form(client, "/admin/posts/validate", {"title": "x", "slug": "secret-plan"},
                        headers={"HX-Request": "true"})  # fmt: skip
    assert "already uses" not in checked.text


def test_a_clash_with_an_unseen_draft_saves_under_a_free_variant(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    _editor_drafts_with_an_image(app, login)
    login("contributor")
    response = new_post(client, title="Mine", slug="secret-plan")
    assert response.status_code == 303
    with app.app_context():
        post = db.session.get(Post, post_id_from(response))
        assert post is not None and post.slug == "secret-plan-2"


def test_an_editor_is_told_of_every_clash(app: Flask, client: FlaskClient, login: Login) -> None:
    _editor_drafts_with_an_image(app, login)
    login("editor", username="desk")
    response = new_post(client, title="Other", slug="secret-plan")
    assert response.status_code == 422 and "already uses the address" in response.text


def test_category_and_tag_pages_exist_only_while_a_public_post_uses_them(
    app: Flask, client: FlaskClient, make_post: Any
) -> None:
    make_post(title="Draft", status="draft", categories=("Embargo",), tags=("soon",))
    reader = app.test_client()
    assert reader.get("/category/embargo").status_code == 404
    assert reader.get("/tag/soon").status_code == 404
    assert "Embargo" not in reader.get("/category/embargo").text
    make_post(title="Out now", categories=("Embargo",), tags=("soon",))
    assert reader.get("/category/embargo").status_code == 200
    assert reader.get("/tag/soon").status_code == 200
    with app.app_context():
        assert db.session.execute(select(Post.title).where(Post.status == "draft")).scalar()
