"""Writing and editing posts with the plain HTML form (no JavaScript needed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from blog.extensions import db
from blog.models import AuditEvent, Post
from tests.conftest import Login, post_form


def new_post(client: FlaskClient, **fields: Any) -> Any:
    data = {"title": "첫 글", "body": "본문 **굵게**", "format": "markdown", "status": "draft",
            "categories": "", "tags": "", "version": ""}  # fmt: skip
    data.update(fields)
    return post_form(client, "/admin/posts/new", data)


def edit_form(client: FlaskClient, post_id: int) -> dict[str, str]:
    """The fields the edit page currently shows, as a browser would submit them."""
    html = client.get(f"/admin/posts/{post_id}/edit").text
    values = dict(re.findall(r'<input[^>]* name="(\w+)"[^>]* value="([^"]*)"', html))
    values.update(re.findall(r'<textarea[^>]* name="(\w+)"[^>]*>\n?([^<]*)</textarea>', html))
    for name, options in re.findall(r'<select[^>]* name="(\w+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(
            r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', options
        )
        values[name] = next(v for v in selected.groups() if v is not None) if selected else ""  # type: ignore[union-attr]
    values.pop("csrf_token", None)
    return {
        k: v.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", '"')
        for k, v in values.items()
    }


def post_id_from(response: Any) -> int:
    return int(re.search(r"/admin/posts/(\d+)/edit", response.headers["Location"])[1])  # type: ignore[index]


def test_new_post_is_saved_and_shown_for_editing(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    response = new_post(
        client, title="한·미 동맹", categories="News, 정치", tags="외교", status="published"
    )
    assert response.status_code == 303
    post_id = post_id_from(response)
    page = client.get(f"/admin/posts/{post_id}/edit")
    assert "Published." in page.text and 'value="한-미-동맹"' in page.text
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post is not None and post.slug == "한-미-동맹" and post.status == "published"
        assert sorted(c.name for c in post.categories) == ["News", "정치"]
        assert "<strong>굵게</strong>" in post.body_html and post.published_at is not None
    assert client.get(f"/posts/{quote('한-미-동맹')}").status_code == 200


def test_invalid_form_returns_422_with_the_text_intact(
    client: FlaskClient, login: Login, make_post: Any
) -> None:
    login("author")
    make_post(title="Taken", slug="taken")
    response = new_post(client, title="", slug="taken", body="내가 쓴 긴 본문\n둘째 줄")
    assert response.status_code == 422
    assert "A title is needed." in response.text
    assert "Another post already uses the address “taken”." in response.text
    assert "내가 쓴 긴 본문\n둘째 줄" in response.text


def test_editing_keeps_a_version_and_bumps_it(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    post_id = post_id_from(new_post(client))
    form = edit_form(client, post_id)
    assert form["version"] == "1" and form["title"] == "첫 글"
    form["body"] = "고친 본문"
    assert post_form(client, f"/admin/posts/{post_id}/edit", form).status_code == 303
    assert edit_form(client, post_id)["version"] == "2"


def test_changing_the_slug_of_a_published_post_keeps_the_old_url(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    post_id = post_id_from(new_post(client, title="Old name", status="published"))
    form = edit_form(client, post_id)
    form["slug"] = "new-name"
    assert post_form(client, f"/admin/posts/{post_id}/edit", form).status_code == 303
    moved = client.get("/posts/old-name")
    assert moved.status_code == 301 and moved.headers["Location"] == "/posts/new-name"


def test_publishing_and_unpublishing_are_audited(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    post_id = post_id_from(new_post(client, status="published"))
    form = edit_form(client, post_id)
    form["status"] = "draft"
    post_form(client, f"/admin/posts/{post_id}/edit", form)
    with app.app_context():
        actions = [
            e.action
            for e in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
        ]
    assert actions == ["post.publish", "post.unpublish"]


def test_publish_time_is_read_in_the_site_time_zone(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    post_id = post_id_from(new_post(client, status="published", published_at="2024-07-22T09:30"))
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post is not None and post.published_at == datetime(2024, 7, 22, 0, 30, tzinfo=UTC)
    assert edit_form(client, post_id)["published_at"] == "2024-07-22T09:30"


def test_published_with_a_future_time_asks_for_scheduled(client: FlaskClient, login: Login) -> None:
    login("editor")
    response = new_post(client, status="published", published_at="2099-01-01T09:00")
    assert response.status_code == 422 and "choose Scheduled" in response.text


def test_dashboard_lists_and_filters(client: FlaskClient, login: Login, make_post: Any) -> None:
    editor_id = login("editor")
    make_post(title="Politics piece", categories=("Politics",), author_id=editor_id)
    make_post(title="Sports piece", categories=("Sports",), status="draft")
    page = client.get("/admin/")
    assert "Politics piece" in page.text and "Sports piece" in page.text
    assert "Sports piece" not in client.get("/admin/?category=politics").text
    assert "Politics piece" not in client.get("/admin/?status=draft").text
    assert "Sports piece" not in client.get(f"/admin/?author={editor_id}").text
    found = client.get("/admin/?q=Sports", headers={"HX-Request": "true"})
    assert (
        "Sports piece" in found.text
        and "Politics piece" not in found.text
        and "<html" not in found.text
    )
