"""Revisions (diff and restore), the trash, and scheduling with an injected clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from blog.extensions import db
from blog.models import AuditEvent, Post, Revision
from tests.conftest import Login, post_form
from tests.editor.test_editing import edit_form, new_post, post_id_from


def save(client: FlaskClient, post_id: int, **changes: str) -> None:
    form = edit_form(client, post_id)
    form.update(changes)
    assert post_form(client, f"/admin/posts/{post_id}/edit", form).status_code == 303


def test_every_save_keeps_a_revision_with_who_and_what(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor", username="kim")
    post_id = post_id_from(new_post(client, body="one\ntwo"))
    save(client, post_id, body="one\nTWO\nthree", title="Renamed")
    page = client.get(f"/admin/posts/{post_id}/revisions")
    assert page.status_code == 200
    assert page.text.count('name="a"') == 2 and "kim" in page.text
    assert '<span class="diff-removed">- two</span>' in page.text
    assert '<span class="diff-added">+ TWO</span>' in page.text
    assert "<del>첫 글</del> → <ins>Renamed</ins>" in page.text


def test_any_two_revisions_can_be_compared_as_a_fragment(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    post_id = post_id_from(new_post(client, body="v1"))
    save(client, post_id, body="v2")
    save(client, post_id, body="v3")
    with app.app_context():
        ids = [r.id for r in db.session.execute(select(Revision).order_by(Revision.id)).scalars()]
    fragment = client.get(
        f"/admin/posts/{post_id}/revisions?a={ids[0]}&b={ids[2]}", headers={"HX-Request": "true"}
    )
    assert "<html" not in fragment.text
    assert "- v1" in fragment.text and "+ v3" in fragment.text and "v2" not in fragment.text


def test_restoring_a_revision_adds_a_new_one(app: Flask, client: FlaskClient, login: Login) -> None:
    login("editor")
    post_id = post_id_from(new_post(client, body="original", categories="Keep"))
    save(client, post_id, body="changed", categories="Other")
    with app.app_context():
        first = db.session.execute(select(Revision).order_by(Revision.id)).scalars().first()
        assert first is not None
        first_id = first.id
    restore = f"/admin/posts/{post_id}/revisions/{first_id}/restore"
    assert post_form(client, restore).status_code == 303  # a draft: restored without asking
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post is not None and post.source == "original"
        assert [c.name for c in post.categories] == ["Keep"]
        revisions = db.session.execute(select(Revision).order_by(Revision.id)).scalars().all()
        assert len(revisions) == 3 and revisions[-1].note == "restored:1"


def test_trash_hides_the_post_and_editors_restore_it(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    post_id = post_id_from(new_post(client, title="To be trashed", status="published"))
    slug = edit_form(client, post_id)["slug"]
    assert client.get(f"/posts/{slug}").status_code == 200
    # Asked first, saying the post leaves the site; nothing changes until confirmed.
    asked = post_form(client, f"/admin/posts/{post_id}/delete")
    assert asked.status_code == 200 and "disappears from it at once" in asked.text
    assert client.get(f"/posts/{slug}").status_code == 200
    confirmed = post_form(client, f"/admin/posts/{post_id}/delete", {"confirmed": "yes"})
    assert confirmed.status_code == 303
    assert client.get(f"/posts/{slug}").status_code == 404
    assert "To be trashed" not in client.get("/admin/").text
    assert "To be trashed" not in client.get("/").text
    # The author sees their own trash and can take the post back.
    assert "To be trashed" in client.get("/admin/trash").text
    assert post_form(client, f"/admin/trash/{post_id}/restore").status_code == 303
    assert client.get(f"/posts/{slug}").status_code == 200
    post_form(client, f"/admin/posts/{post_id}/delete", {"confirmed": "yes"})
    editor = app.test_client()
    login("editor", browser=editor)
    assert "To be trashed" in editor.get("/admin/trash").text
    assert post_form(editor, f"/admin/trash/{post_id}/restore").status_code == 303
    assert client.get(f"/posts/{slug}").status_code == 200


def test_admin_empties_the_trash_and_it_is_audited(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("admin")
    post_id = post_id_from(new_post(client, title="Gone for good"))
    post_form(client, f"/admin/posts/{post_id}/delete", {"confirmed": "yes"})
    asked = post_form(client, "/admin/trash/empty")
    assert asked.status_code == 200 and "cannot be undone" in asked.text
    with app.app_context():
        assert db.session.get(Post, post_id) is not None
    assert post_form(client, "/admin/trash/empty", {"confirmed": "yes"}).status_code == 303
    with app.app_context():
        assert db.session.get(Post, post_id) is None
        actions = [e.action for e in db.session.execute(select(AuditEvent)).scalars()]
    assert actions == ["post.delete", "trash.empty"]


def test_scheduled_post_appears_when_its_time_comes(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    start = datetime(2030, 5, 1, 0, 0, tzinfo=UTC)
    app.config["CLOCK"] = lambda: start
    login("editor")
    response = new_post(
        client, title="Tomorrow's news", status="scheduled", published_at="2030-05-02T09:00"
    )
    assert response.status_code == 303
    post_id = post_id_from(response)
    slug = edit_form(client, post_id)["slug"]
    reader = app.test_client()
    assert "Tomorrow&#39;s news" not in reader.get("/").text
    assert reader.get(f"/posts/{slug}").status_code == 404
    assert re.search(r"status-scheduled", client.get("/admin/").text)

    app.config["CLOCK"] = lambda: start + timedelta(days=1, hours=1)  # 2030-05-02 10:00 Seoul
    assert "Tomorrow&#39;s news" in reader.get("/").text
    assert reader.get(f"/posts/{slug}").status_code == 200


def test_scheduling_in_the_past_is_refused(app: Flask, client: FlaskClient, login: Login) -> None:
    app.config["CLOCK"] = lambda: datetime(2030, 5, 1, tzinfo=UTC)
    login("editor")
    response = new_post(client, status="scheduled", published_at="2030-04-30T09:00")
    assert response.status_code == 422 and "needs a publish time in the future" in response.text
