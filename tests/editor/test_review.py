"""The desk's day: writers submit for review, editors publish or send back with a note,
every role is offered only what it may do, and the status shown is the one readers see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from blog.auth.accounts import create_user
from blog.database import writing
from blog.extensions import db
from blog.models import AuditEvent, Post, Revision, Role, User
from tests.conftest import PASSWORD, Login, post_form
from tests.editor.test_editing import edit_form, new_post, post_id_from


def audit_actions(app: Flask) -> list[str]:
    with app.app_context():
        return [e.action for e in db.session.execute(select(AuditEvent)).scalars()]


def notes(app: Flask, post_id: int) -> list[str]:
    with app.app_context():
        query = select(Revision.note).where(Revision.post_id == post_id).order_by(Revision.id)
        return list(db.session.execute(query).scalars())


def speak_korean(app: Flask, user_id: int) -> None:
    with app.app_context(), writing():
        user = db.session.get(User, user_id)
        assert user is not None
        user.language = "ko"


def status_of(app: Flask, post_id: int) -> str:
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post is not None
        return post.status


@pytest.fixture
def desk(app: Flask, login: Login) -> tuple[FlaskClient, FlaskClient]:
    """A signed-in contributor (the client... no: two browsers) and a signed-in editor."""
    reporter, editor = app.test_client(), app.test_client()
    login("contributor", username="reporter", browser=reporter)
    login("editor", username="desk", browser=editor)
    return reporter, editor


def test_a_contributor_is_offered_save_and_submit_not_publish(
    desk: tuple[FlaskClient, FlaskClient],
) -> None:
    reporter, _ = desk
    page = reporter.get("/admin/posts/new").text
    assert 'name="status" value="draft">Save</button>' in page
    assert 'name="status" value="pending">Submit for review</button>' in page
    assert '<select id="status"' not in page and "Published" not in page
    # A hand-made request for a public status is refused by name, the text kept.
    refused = new_post(reporter, title="몰래 발행", status="published")
    assert refused.status_code == 422 and "몰래 발행" in refused.text
    assert "submit them for review" in refused.text


def test_the_korean_buttons_say_what_they_do(app: Flask, login: Login) -> None:
    reporter = app.test_client()
    speak_korean(app, login("contributor", username="kim", browser=reporter))
    page = reporter.get("/admin/posts/new").text
    assert ">저장</button>" in page and ">검토 요청</button>" in page


def test_submit_review_and_publish(app: Flask, desk: tuple[FlaskClient, FlaskClient]) -> None:
    reporter, editor = desk
    post_id = post_id_from(new_post(reporter, title="해운대 빛축제", status="pending"))
    assert status_of(app, post_id) == "pending"
    assert "Submitted for review" in reporter.get(f"/admin/posts/{post_id}/edit").text
    # The desk sees it in the queue, with a count in the navigation.
    dashboard = editor.get("/admin/").text
    assert 'id="review-queue"' in dashboard and "해운대 빛축제" in dashboard
    assert 'class="nav-count"' in dashboard and ">1</span>" in dashboard
    assert 'id="review-queue"' not in reporter.get("/admin/").text
    # The editor opens it, sees the review panel and publishes it with the form.
    page = editor.get(f"/admin/posts/{post_id}/edit").text
    assert 'id="review-panel"' in page
    form = edit_form(editor, post_id)
    form["status"] = "published"
    published = post_form(editor, f"/admin/posts/{post_id}/edit", form)
    assert published.status_code == 303
    assert "Published." in editor.get(published.headers["Location"]).text
    assert status_of(app, post_id) == "published"
    assert 'id="review-queue"' not in editor.get("/admin/").text
    assert audit_actions(app) == ["post.submit", "post.publish"]
    assert notes(app, post_id) == ["created,submitted", "published"]


def test_an_editor_sends_a_post_back_with_a_note_the_writer_sees(
    app: Flask, desk: tuple[FlaskClient, FlaskClient]
) -> None:
    reporter, editor = desk
    post_id = post_id_from(new_post(reporter, title="초고", status="pending"))
    version = edit_form(editor, post_id)["version"]
    note = "제목을 더 구체적으로. <script>alert(1)</script>"
    sent = post_form(editor, f"/admin/posts/{post_id}/send-back",
                     {"review_note": note, "version": version})  # fmt: skip
    assert sent.status_code == 303
    assert status_of(app, post_id) == "draft"
    page = reporter.get(f"/admin/posts/{post_id}/edit").text
    assert 'id="review-note"' in page and "제목을 더 구체적으로." in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "Changes requested" in reporter.get("/admin/").text
    with app.app_context():
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "post.send_back")
        ).scalar_one()
        assert event.detail["review_note"] == note
        latest = db.session.execute(select(Revision).order_by(Revision.id.desc())).scalars().first()
        assert latest is not None and latest.note == "sent-back"
        assert latest.fields["review_note"] == note
    # Resubmitting clears the note.
    form = edit_form(reporter, post_id)
    form["status"] = "pending"
    assert post_form(reporter, f"/admin/posts/{post_id}/edit", form).status_code == 303
    assert 'id="review-note"' not in reporter.get(f"/admin/posts/{post_id}/edit").text
    assert notes(app, post_id) == ["created,submitted", "sent-back", "submitted"]
    # The desk sees what it asked for, to check the changes against it; the button says
    # Publish, since that is what the desk opened the post to do.
    desk_page = editor.get(f"/admin/posts/{post_id}/edit").text
    assert "What you asked for last time" in desk_page and "제목을 더 구체적으로." in desk_page
    assert edit_form(editor, post_id)["status"] == "published" and ">Publish</button>" in desk_page
    form = edit_form(editor, post_id)
    assert post_form(editor, f"/admin/posts/{post_id}/edit", form).status_code == 303
    assert status_of(app, post_id) == "published"
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post is not None and post.review_note == ""  # done with once it is out


def test_sending_back_is_for_editors_and_only_for_waiting_posts(
    app: Flask, desk: tuple[FlaskClient, FlaskClient], login: Login
) -> None:
    reporter, editor = desk
    post_id = post_id_from(new_post(reporter, title="대기", status="pending"))
    author = app.test_client()
    login("author", username="writer", browser=author)
    url = f"/admin/posts/{post_id}/send-back"
    assert post_form(reporter, url, {"review_note": "x", "version": "2"}).status_code == 403
    assert post_form(author, url, {"review_note": "x", "version": "2"}).status_code == 403
    # A stale version is a conflict, not an overwrite.
    stale = post_form(editor, url, {"review_note": "x", "version": "0"})
    assert stale.status_code == 303 and status_of(app, post_id) == "pending"
    # No note: the writer would not know what to change.
    for empty in ("", "   ", "\n\t"):
        refused = post_form(
            editor, url, {"review_note": empty, "version": edit_form(editor, post_id)["version"]}
        )
        assert refused.status_code == 422 and "Say what should change" in refused.text
    assert status_of(app, post_id) == "pending"
    # Too long a note comes back with the note kept.
    version = edit_form(editor, post_id)["version"]
    long_note = "긴 메모 " * 500
    refused = post_form(editor, url, {"review_note": long_note, "version": version})
    assert refused.status_code == 422 and "at most 2000 characters" in refused.text
    assert long_note.strip() in refused.text
    # Not waiting any more: a message, nothing changed.
    form = edit_form(editor, post_id)
    form["status"] = "published"
    post_form(editor, f"/admin/posts/{post_id}/edit", form)
    late = post_form(editor, url, {"review_note": "x", "version": form["version"]})
    assert late.status_code == 303 and status_of(app, post_id) == "published"
    assert "no longer waiting" in editor.get(late.headers["Location"]).text


def test_a_contributor_can_mend_a_submitted_post_but_not_a_published_one(
    app: Flask, desk: tuple[FlaskClient, FlaskClient]
) -> None:
    reporter, editor = desk
    post_id = post_id_from(new_post(reporter, title="고칠 글", status="pending"))
    form = edit_form(reporter, post_id)
    form.update(body="고친 본문", status="pending")
    assert post_form(reporter, f"/admin/posts/{post_id}/edit", form).status_code == 303
    # Saving as a draft takes it back from the queue.
    form = edit_form(reporter, post_id)
    form["status"] = "draft"
    assert post_form(reporter, f"/admin/posts/{post_id}/edit", form).status_code == 303
    assert "post.withdraw" in audit_actions(app)
    assert 'id="review-queue"' not in editor.get("/admin/").text


@pytest.mark.parametrize(
    ("role", "offered"),
    [("contributor", {"draft", "pending"}),
     ("author", {"draft", "pending", "published", "scheduled", "unlisted"}),
     ("editor", {"draft", "pending", "published", "scheduled", "unlisted"})],
)  # fmt: skip
def test_each_role_is_offered_only_the_statuses_it_may_set(
    client: FlaskClient, login: Login, role: str, offered: set[str]
) -> None:
    login(role)
    page = client.get("/admin/posts/new").text
    import re

    in_select = (
        set(
            re.findall(
                r'<option (?:selected )?value="(\w+)"',
                page.split('id="status"')[1].split("</select>")[0],
            )
        )
        if '<select id="status"' in page
        else set()
    )
    buttons = set(re.findall(r'name="status" value="(\w+)"', page))
    assert (in_select or buttons) == offered


def test_the_primary_button_is_named_after_what_saving_does(
    client: FlaskClient, login: Login
) -> None:
    login("editor")
    page = client.get("/admin/posts/new").text
    assert 'id="save-button"' in page and ">Save</button>" in page
    assert "Submit for review" in page and "Schedule" in page  # the labels editor.js uses
    post_id = post_id_from(new_post(client, title="공개 글", status="published"))
    assert ">Update</button>" in client.get(f"/admin/posts/{post_id}/edit").text


def test_an_editor_changes_the_author_and_it_is_audited(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    with app.app_context(), writing():
        reporter_id = create_user("reporter", PASSWORD, Role.CONTRIBUTOR, display_name="박기자").id
    post_id = post_id_from(new_post(client, title="바이라인"))
    form = edit_form(client, post_id)
    assert f'value="{reporter_id}"' in client.get(f"/admin/posts/{post_id}/edit").text
    form["author"] = str(reporter_id)
    assert post_form(client, f"/admin/posts/{post_id}/edit", form).status_code == 303
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post is not None and post.author_id == reporter_id
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "post.author")
        ).scalar_one()
        assert event.detail["new"] == reporter_id
    assert "post.author" in audit_actions(app)


@pytest.mark.parametrize("value", ["abc", "99999", "-1", "1.5", "٣", "0x1", " ", "1" * 30])
def test_a_hostile_author_value_is_named_and_the_text_kept(
    client: FlaskClient, login: Login, value: str
) -> None:
    login("editor")
    post_id = post_id_from(new_post(client, title="원래 글"))
    form = edit_form(client, post_id)
    form.update(author=value, body="지킬 본문")
    response = post_form(client, f"/admin/posts/{post_id}/edit", form)
    if value.strip():
        assert response.status_code == 422, value
        assert "Choose an author from the list." in response.text and "지킬 본문" in response.text
    else:
        assert response.status_code == 303  # blank: the author stays


def test_an_inactive_user_cannot_be_made_the_author(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    with app.app_context(), writing():
        gone = create_user("gone", PASSWORD, Role.AUTHOR)
        gone.active = False
        gone_id = gone.id
    post_id = post_id_from(new_post(client))
    form = edit_form(client, post_id)
    form["author"] = str(gone_id)
    response = post_form(client, f"/admin/posts/{post_id}/edit", form)
    assert response.status_code == 422 and "Choose an author from the list." in response.text


def test_only_editors_may_change_the_author(app: Flask, client: FlaskClient, login: Login) -> None:
    login("author", username="writer")
    other = app.test_client()
    other_id = login("author", username="other", browser=other)
    page = client.get("/admin/posts/new").text
    assert 'id="author"' not in page
    response = new_post(client, title="내 글", author=str(other_id))
    assert response.status_code == 422
    assert "Only editors and admins can change a post&#39;s author." in response.text


def test_a_scheduled_post_whose_time_came_is_called_published_everywhere(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    start = datetime(2030, 5, 1, 0, 0, tzinfo=UTC)
    app.config["CLOCK"] = lambda: start
    login("editor")
    post_id = post_id_from(new_post(
        client, title="예약 글", status="scheduled", published_at="2030-05-01T12:00",
    ))  # fmt: skip
    assert "예약 글" in client.get("/admin/?status=scheduled").text
    assert "예약 글" not in client.get("/admin/?status=published").text
    app.config["CLOCK"] = lambda: start + timedelta(days=1)
    assert "예약 글" in client.get("/admin/?status=published").text
    assert "예약 글" not in client.get("/admin/?status=scheduled").text
    assert edit_form(client, post_id)["status"] == "published"
    # Saving it again as the form shows it works (the time is in the past now).
    form = edit_form(client, post_id)
    assert post_form(client, f"/admin/posts/{post_id}/edit", form).status_code == 303
    assert "post.unpublish" not in audit_actions(app)


@pytest.mark.parametrize("value", ["bogus", "PUBLISHED", "\x00", "draft' OR 1=1"])
def test_an_unknown_status_filter_shows_every_post(
    client: FlaskClient, login: Login, value: str
) -> None:
    login("editor")
    new_post(client, title="보이는 글")
    response = client.get("/admin/", query_string={"status": value})
    assert response.status_code == 200 and "보이는 글" in response.text


def test_revision_notes_are_shown_in_the_reader_s_language(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    speak_korean(app, login("editor"))
    post_id = post_id_from(new_post(client, title="기록"))
    form = edit_form(client, post_id)
    form["body"] = "둘째"
    post_form(client, f"/admin/posts/{post_id}/edit", form)
    with app.app_context():
        first = db.session.execute(select(Revision.id).order_by(Revision.id)).scalars().first()
    post_form(client, f"/admin/posts/{post_id}/revisions/{first}/restore")
    page = client.get(f"/admin/posts/{post_id}/revisions").text
    assert "작성" in page and "1번 판 복원" in page
    assert ">created<" not in page and "restored revision" not in page


def test_restoring_a_revision_of_a_public_post_asks_first(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    post_id = post_id_from(new_post(client, title="공개", body="첫 판", status="published"))
    form = edit_form(client, post_id)
    form["body"] = "둘째 판"
    post_form(client, f"/admin/posts/{post_id}/edit", form)
    with app.app_context():
        first = db.session.execute(select(Revision.id).order_by(Revision.id)).scalars().first()
    url = f"/admin/posts/{post_id}/revisions/{first}/restore"
    asked = post_form(client, url)
    assert asked.status_code == 200 and "puts that text on the site at once" in asked.text
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post is not None and post.source == "둘째 판"
    assert post_form(client, url, {"confirmed": "yes"}).status_code == 303
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post is not None and post.source == "첫 판"


def test_confirmation_is_a_fragment_for_htmx(client: FlaskClient, login: Login) -> None:
    login("author")
    post_id = post_id_from(new_post(client, title="지울 글"))
    fragment = post_form(client, f"/admin/posts/{post_id}/delete", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'id="confirmation"' in fragment.text and 'name="confirmed" value="yes"' in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]


@pytest.mark.parametrize("value", ["", "no", "YES", "yes ", "1", "true"])
def test_only_an_exact_confirmation_deletes(
    app: Flask, client: FlaskClient, login: Login, value: str
) -> None:
    login("author")
    post_id = post_id_from(new_post(client, title="남을 글"))
    response = post_form(client, f"/admin/posts/{post_id}/delete", {"confirmed": value})
    assert response.status_code == 200
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post is not None and post.deleted_at is None


def test_a_contributor_trashes_and_restores_their_own_draft(
    app: Flask, client: FlaskClient, login: Login, make_post: Any
) -> None:
    login("contributor")
    post_id = post_id_from(new_post(client, title="내 초안"))
    make_post(title="남의 휴지통 글")
    with app.app_context(), writing():
        for post in db.session.execute(select(Post)).scalars():
            if post.title == "남의 휴지통 글":
                post.deleted_at = datetime.now(UTC)
                others = post.id
    trashed = post_form(client, f"/admin/posts/{post_id}/delete", {"confirmed": "yes"})
    assert trashed.status_code == 303
    trash = client.get("/admin/trash").text
    assert "내 초안" in trash and "남의 휴지통 글" not in trash
    assert post_form(client, f"/admin/trash/{others}/restore").status_code == 404
    assert post_form(client, f"/admin/trash/{post_id}/restore").status_code == 303
    assert "내 초안" in client.get("/admin/").text


def test_an_editor_s_takedown_stays_down_until_an_editor_restores_it(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author", username="writer")
    post_id = post_id_from(new_post(client, title="내려진 글", status="published"))
    editor = app.test_client()
    login("editor", username="desk", browser=editor)
    post_form(editor, f"/admin/posts/{post_id}/delete", {"confirmed": "yes"})
    trash = client.get("/admin/trash").text
    assert "내려진 글" in trash and "An editor moved it to the trash" in trash
    assert post_form(client, f"/admin/trash/{post_id}/restore").status_code == 403
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post is not None and post.deleted_at is not None
    assert post_form(editor, f"/admin/trash/{post_id}/restore").status_code == 303
