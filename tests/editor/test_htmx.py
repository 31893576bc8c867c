"""The editor's HTMX endpoints: preview, slug suggestion, inline validation, autosave."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Login, post_form
from tests.editor.test_editing import edit_form, new_post, post_id_from

HX = {"HX-Request": "true"}


def test_preview_uses_the_publishing_renderer_and_sanitiser(
    client: FlaskClient, login: Login
) -> None:
    login("author")
    body = (
        '## 제목\n\n<span style="color: #ee2323; position: fixed">빨강</span>'
        "<script>alert(1)</script>"
    )
    response = post_form(client, "/admin/preview", {"body": body, "format": "markdown"}, headers=HX)
    assert response.status_code == 200 and "<html" not in response.text
    assert '<h2 id="제목">제목</h2>' in response.text
    assert '<span style="color: #ee2323">빨강</span>' in response.text
    assert "script" not in response.text and "hx-disable" in response.text
    assert "HX-Request" in response.headers["Vary"]
    full = post_form(client, "/admin/preview", {"body": "x", "format": "markdown", "title": "T"})
    assert "<html" in full.text  # without htmx, a whole preview page


def test_slug_suggestion_is_unique_and_keeps_hangul(
    client: FlaskClient, login: Login, make_post: object
) -> None:
    login("author")
    make_post(title="Taken", slug="속보")  # type: ignore[operator]
    response = client.get("/admin/slug-suggestion?title=속보", headers=HX)
    assert "<code>/posts/속보-2</code>" in response.text and "<html" not in response.text


def test_inline_validation_answers_with_out_of_band_errors(
    client: FlaskClient, login: Login
) -> None:
    login("contributor")
    response = post_form(
        client, "/admin/posts/validate", {"title": "", "status": "published"}, headers=HX
    )
    expected = '<p class="field-error" id="error-title" role="alert" hx-swap-oob="true">'
    assert expected + "A title is needed.</p>" in response.text
    assert "Your role can save drafts and submit them for review" in response.text
    ok = post_form(
        client, "/admin/posts/validate", {"title": "Fine", "status": "draft"}, headers=HX
    )
    assert 'id="error-title" role="alert" hx-swap-oob="true"></p>' in ok.text


def test_autosave_keeps_a_working_copy_that_can_be_restored(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    post_id = post_id_from(new_post(client, body="saved text"))
    form = edit_form(client, post_id)
    form["body"] = "typed but never saved"
    response = post_form(client, f"/admin/posts/{post_id}/autosave", form, headers=HX)
    assert response.status_code == 200 and "Draft kept at" in response.text
    page = client.get(f"/admin/posts/{post_id}/edit")
    assert "You have unsaved changes from" in page.text
    assert "typed but never saved" not in page.text  # the post itself is untouched
    restored = client.get(f"/admin/posts/{post_id}/edit?restore=1")
    assert "typed but never saved" in restored.text
    # Saving the restored text clears the working copy.
    form_now = edit_form(client, post_id)
    form_now["body"] = "typed but never saved"
    assert post_form(client, f"/admin/posts/{post_id}/edit", form_now).status_code == 303
    assert "You have unsaved changes" not in client.get(f"/admin/posts/{post_id}/edit").text


def test_autosave_of_a_new_post_and_discarding_it(client: FlaskClient, login: Login) -> None:
    login("author")
    post_form(
        client, "/admin/posts/new/autosave", {"title": "Half written", "body": "draft"}, headers=HX
    )
    assert "You have unsaved changes" in client.get("/admin/posts/new").text
    assert 'value="Half written"' in client.get("/admin/posts/new?restore=1").text
    assert post_form(client, "/admin/posts/new/autosave/discard").status_code == 303
    assert "You have unsaved changes" not in client.get("/admin/posts/new").text


def test_autosaves_are_per_user(app: Flask, client: FlaskClient, login: Login) -> None:
    login("editor", username="kim")
    other = app.test_client()
    login("editor", username="lee", browser=other)
    post_form(client, "/admin/posts/new/autosave", {"title": "Kim's"}, headers=HX)
    assert "You have unsaved changes" not in other.get("/admin/posts/new").text
