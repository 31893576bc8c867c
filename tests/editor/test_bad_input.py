"""The review's bad-input findings on the editor: each answered with a message, text kept."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from blog.database import writing
from blog.extensions import db
from blog.models import Category, Post, WorkingCopy
from tests.conftest import PASSWORD, Login, holding_the_write_lock, post_form, token_from
from tests.editor.test_editing import new_post, post_id_from
from tests.helpers_http import HttpBrowser

KEPT = "이 문장은 잃어버리면 안 됩니다"


def test_an_unknown_format_is_named_and_the_text_kept(client: FlaskClient, login: Login) -> None:
    login("author")
    response = new_post(client, format="evil", body=KEPT)
    assert response.status_code == 422
    assert "Not a valid choice" in response.text and KEPT in response.text
    preview = post_form(client, "/admin/preview", {"body": "**b**", "format": "evil"},
                        headers={"HX-Request": "true"})  # fmt: skip
    assert preview.status_code == 200 and "<strong>b</strong>" in preview.text


@pytest.mark.parametrize("moment", ["0001-01-01T00:00", "9999-12-31T23:59", "1899-12-31T23:59"])
def test_a_date_out_of_range_is_named_and_the_text_kept(
    client: FlaskClient, login: Login, moment: str
) -> None:
    login("author")
    response = new_post(client, status="published", published_at=moment, body=KEPT)
    assert response.status_code == 422
    assert "Choose a date between the years 1900 and 9998." in response.text
    assert KEPT in response.text


@pytest.mark.parametrize("page", ["99999999999999999999", "0", "-1", "abc", "1.5", "１"])
def test_absurd_page_numbers_are_404(client: FlaskClient, login: Login, page: str) -> None:
    assert client.get(f"/?page={page}").status_code == 404
    login("editor")
    assert client.get(f"/admin/?page={page}").status_code == 404


def test_slug_suggestion_without_htmx_is_the_fragment(client: FlaskClient, login: Login) -> None:
    login("author")
    response = client.get("/admin/slug-suggestion?title=한미 동맹")
    assert response.status_code == 200 and "<html" not in response.text
    assert "한미-동맹" in response.text


def test_autosave_keys_that_are_not_posts_are_404(client: FlaskClient, login: Login) -> None:
    login("author")
    for key in ("abc", "99999999999999999999999", "-1", "new%0a"):
        assert post_form(client, f"/admin/posts/{key}/autosave/discard").status_code == 404
        assert post_form(client, f"/admin/posts/{key}/autosave").status_code == 404


def test_a_body_within_the_limit_saves_and_one_beyond_comes_back_named(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    limit = app.config["MAX_POST_CHARS"]
    assert limit == 1_000_000
    # Hangul is three bytes a character: far beyond Werkzeug's default 500 KB form limit.
    fits = ("가나다라마바사 " * (limit // 8))[:limit]
    response = post_form(client, "/admin/posts/new",
                         {"title": "긴 글", "body": fits, "format": "markdown", "version": "",
                          "attachment": (io.BytesIO(b""), "")},
                         content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 303, response.text[:300]
    with app.app_context():
        assert db.session.execute(select(func.length(Post.source))).scalar() == limit
    too_long = fits + "넘침"
    response = new_post(client, title="너무 긴 글", body=too_long)
    assert response.status_code == 422
    assert "a post can have at most 1,000,000" in response.text
    assert "넘침" in response.text  # the whole text is back in the form


def test_a_request_beyond_every_limit_gets_a_page_naming_them(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    response = new_post(client, body="x" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert "A request can be at most 1 MB" in response.text
    assert "1,000,000 characters" in response.text


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "nul\x00title"), ("title", "\u202egnp.exe"), ("slug", "a\x00b"),
     ("categories", "News, bad\x07bell"), ("tags", "ok, \ufeffhidden")],
)  # fmt: skip
def test_invisible_characters_in_one_line_fields_are_refused(
    client: FlaskClient, login: Login, field: str, value: str
) -> None:
    login("author")
    response = new_post(client, body=KEPT, **{field: value})
    assert response.status_code == 422
    assert "invisible control character" in response.text and KEPT in response.text


def test_text_is_stored_as_nfc_and_the_body_loses_stray_controls(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    decomposed = "\u1112\u1161\u11ab"  # 한, as macOS writes it
    response = new_post(client, title=decomposed, body=f"a\x00b\x0cc {decomposed}",
                        categories=decomposed)  # fmt: skip
    assert response.status_code == 303
    with app.app_context():
        post = db.session.get(Post, post_id_from(response))
        assert post is not None
        assert post.title == "한" and post.source == "abc 한" and post.categories[0].name == "한"


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JaVaScript:alert(1)", "data:image/png;base64,AAAA", "not a url",
     "http://tracker.example/p.gif", "//evil.example/x.png", "/\\evil.example/x.png",
     "https:/evil.example", "https://evil.example\\@ok.example/x.png"],
)  # fmt: skip
def test_feature_images_other_than_ours_and_https_are_refused(
    client: FlaskClient, login: Login, url: str
) -> None:
    login("author")
    response = new_post(client, feature_image=url, body=KEPT)
    assert response.status_code == 422
    assert "media library, a path on this site or an https:// address" in response.text
    assert KEPT in response.text


@pytest.mark.parametrize(
    "url", ["/media/" + "0" * 64 + "/a.png", "/assets/img/a.jpg", "https://cdn.example/a.jpg"]
)
def test_feature_images_from_the_store_the_site_or_https_are_kept(
    app: Flask, client: FlaskClient, login: Login, url: str
) -> None:
    login("author")
    response = new_post(client, feature_image=url, status="published")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Post, post_id_from(response)).feature_image == url  # type: ignore[union-attr]


def test_a_stored_bad_feature_image_is_not_rendered(
    app: Flask, client: FlaskClient, make_post: Any
) -> None:
    slug = make_post(title="Old row", feature_image="javascript:alert(1)")
    assert "javascript:" not in client.get(f"/posts/{slug}").text
    assert "javascript:" not in client.get("/").text


def test_the_live_preview_never_waits_for_the_write_lock(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("contributor")
    app.config["SQLITE_BUSY_TIMEOUT_MS"] = 100
    with holding_the_write_lock(app):  # another save, holding the lock
        response = post_form(client, "/admin/preview", {"body": "*x*", "format": "markdown"},
                             headers={"HX-Request": "true"})  # fmt: skip
        validated = post_form(client, "/admin/posts/validate", {"title": "t"},
                              headers={"HX-Request": "true"})  # fmt: skip
    assert response.status_code == 200 and "<em>x</em>" in response.text
    assert validated.status_code == 200


def test_concurrent_saves_with_the_same_new_category_make_one(
    app: Flask, live_server: str, login: Login
) -> None:
    browsers = []
    for number in range(6):
        login("editor", username=f"desk{number}", browser=app.test_client())
        browser = HttpBrowser(live_server)
        browser.sign_in(f"desk{number}", PASSWORD)
        browsers.append(browser)
    barrier = threading.Barrier(len(browsers))
    statuses: list[int] = []

    def save(browser: HttpBrowser, number: int) -> None:
        barrier.wait()
        answer = browser.request("/admin/posts/new", {
            "title": f"속보 {number}", "body": "본문", "format": "markdown", "status": "draft",
            "categories": "긴급 속보, News", "tags": "동시", "version": ""})  # fmt: skip
        statuses.append(answer.status)

    threads = [threading.Thread(target=save, args=(b, n)) for n, b in enumerate(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [303] * len(browsers)
    with app.app_context():
        names = db.session.execute(select(Category.name).order_by(Category.name)).scalars()
        assert list(names) == ["News", "긴급 속보"]


def test_autosave_racing_discard_never_fails(app: Flask, live_server: str, login: Login) -> None:
    login("author", username="racer", browser=app.test_client())
    browser = HttpBrowser(live_server)
    browser.sign_in("racer", PASSWORD)
    statuses: list[int] = []

    def autosave() -> None:
        for number in range(30):
            answer = browser.request("/admin/posts/new/autosave", {"title": f"t{number}"},
                                     headers={"HX-Request": "true"})  # fmt: skip
            statuses.append(answer.status)

    def discard() -> None:
        for _ in range(30):
            statuses.append(browser.request("/admin/posts/new/autosave/discard", {}).status)

    threads = [threading.Thread(target=autosave), threading.Thread(target=discard)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(statuses) == 60 and set(statuses) <= {200, 303}
    with app.app_context():
        assert db.session.execute(select(func.count(WorkingCopy.id))).scalar() in {0, 1}
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def test_writes_happen_only_inside_writing(app: Flask) -> None:
    with app.app_context():
        with writing():
            db.session.add(Category(name="x", slug="x"))
        assert db.session.execute(select(func.count(Category.id))).scalar() == 1


# -- found by the second hostile walk ---------------------------------------------------


def _within_cpu_seconds(seconds: int, work: Any) -> None:
    """Run `work` in a forked child limited to `seconds` of CPU; fail if it is killed."""
    import multiprocessing
    import resource

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
        work()

    child = multiprocessing.get_context("fork").Process(target=limited)
    child.start()
    child.join()
    assert child.exitcode == 0, f"killed after {seconds} CPU seconds (exit {child.exitcode})"


def test_revision_diffs_of_long_repetitive_bodies_take_linear_time() -> None:
    from blog.content.publish import line_diff

    old = "x\n" * 100_000
    new = "x\n" * 50_000 + "inserted\n" + "x\n" * 50_000
    shuffled_old = "".join(f"{n % 7}\n" for n in range(40_000))
    shuffled_new = "".join(f"{n % 5}\n" for n in range(40_000))

    def work() -> None:
        diff = line_diff(old, new)
        assert [line.text for line in diff if line.kind == "added"] == ["inserted"]
        line_diff(shuffled_old, shuffled_new)

    _within_cpu_seconds(20, work)


@pytest.mark.parametrize(
    "body", ["[^" * 50_000, "<a " * 30_000, "<http://" * 20_000, "# a\n" * 20_000]
)
def test_markdown_too_slow_to_render_is_refused_with_the_text_kept(
    client: FlaskClient, login: Login, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    from blog.content import markdown_worker

    monkeypatch.setattr(markdown_worker, "BASE_SECONDS", 0.5)
    monkeypatch.setattr(markdown_worker, "SECONDS_PER_CHARACTER", 0)
    login("contributor")
    preview = post_form(client, "/admin/preview", {"body": body, "format": "markdown"},
                        headers={"HX-Request": "true"})  # fmt: skip
    assert preview.status_code == 200 and "takes too long to render" in preview.text
    response = new_post(client, title="느린 글", body=body + KEPT)
    assert response.status_code == 422
    assert "takes too long to render" in response.text and KEPT in response.text
    # The worker that was stopped is replaced: the next render works.
    assert "<em>ok</em>" in post_form(client, "/admin/preview", {"body": "*ok*"}).text


def test_a_post_can_have_twenty_categories_and_fifty_tags(
    client: FlaskClient, login: Login
) -> None:
    login("contributor")
    too_many = new_post(client, body=KEPT, categories=",".join(f"c{n}" for n in range(21)))
    assert too_many.status_code == 422 and "at most 20" in too_many.text
    assert KEPT in too_many.text
    assert new_post(client, tags=",".join(f"t{n}" for n in range(51))).status_code == 422
    fine = new_post(client, categories=",".join(f"c{n}" for n in range(20)),
                    tags=",".join(f"t{n}" for n in range(50)))  # fmt: skip
    assert fine.status_code == 303


def test_json_and_other_bodies_are_refused(app: Flask, client: FlaskClient, login: Login) -> None:
    anonymous = app.test_client()
    token = token_from(anonymous.get("/login").text)
    response = anonymous.post("/login", json={"login": 1, "password": 1},
                              headers={"X-CSRFToken": token})  # fmt: skip
    assert response.status_code == 415
    login("contributor")
    for payload in ({"title": "a", "body": 1}, {"categories": [1, 2]}, {"version": 5}):
        answer = client.post("/admin/posts/new", json=payload,
                             headers={"X-CSRFToken": client.csrf_token})  # type: ignore[attr-defined]  # fmt: skip
        assert answer.status_code == 415
    plain = client.post("/admin/preview", data="body=x", content_type="text/plain",
                        headers={"X-CSRFToken": client.csrf_token})  # type: ignore[attr-defined]  # fmt: skip
    assert plain.status_code == 415


def test_unicode_digits_are_not_numbers(app: Flask, client: FlaskClient, login: Login) -> None:
    login("author")
    post_id = post_id_from(new_post(client))
    assert client.get("/admin/?author=%C2%B2").status_code == 200
    response = post_form(client, f"/admin/posts/{post_id}/edit",
                         {"title": "t", "body": KEPT, "format": "markdown", "status": "draft",
                          "version": "²"})  # fmt: skip
    assert response.status_code == 409 and KEPT in response.text


def test_a_dashboard_search_of_any_length_answers(client: FlaskClient, login: Login) -> None:
    login("editor")
    assert new_post(client, title="100% 확실").status_code == 303
    assert client.get("/admin/?q=" + "a" * 50_000).status_code == 200
    assert "100% 확실" in client.get("/admin/?q=100%25").text
    assert "100% 확실" not in client.get("/admin/?q=%25%25%25").text  # % is a character


def test_the_same_image_uploaded_again_keeps_the_uploader_s_name(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", (10, 10), (255, 0, 0)).save(output, "PNG")
    editor = app.test_client()
    login("editor", browser=editor)
    post_form(editor, "/admin/media", {"file": (io.BytesIO(output.getvalue()),
              "secret-merger-acme-logo.png")}, content_type="multipart/form-data")  # fmt: skip
    login("contributor")
    mine = {"file": (io.BytesIO(output.getvalue()), "mine.png")}
    answer = post_form(client, "/admin/media", mine, content_type="multipart/form-data",
                       headers={"HX-Request": "true"})  # fmt: skip
    assert answer.status_code == 200 and "mine.png" in answer.text
    assert "secret-merger" not in answer.text


def test_someone_else_s_file_is_never_named_through_a_post_or_the_library(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    import re

    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", (10, 10), (0, 0, 255)).save(output, "PNG")
    editor = app.test_client()
    login("editor", browser=editor)
    post_form(editor, "/admin/media", {"file": (io.BytesIO(output.getvalue()),
              "secret-merger-acme-logo.png"), "alt": "ACME merger logo"},
              content_type="multipart/form-data")  # fmt: skip
    login("contributor")
    fields = {"title": "내 글", "body": "본문", "format": "markdown", "status": "draft",
              "version": ""}  # fmt: skip
    # Without alt text the image waits in the form; nothing of the editor's shows.
    attachment = {"attachment": (io.BytesIO(output.getvalue()), "mine.png")}
    waiting = post_form(client, "/admin/posts/new", {**fields, **attachment},
                        content_type="multipart/form-data")  # fmt: skip
    assert waiting.status_code == 422
    assert "secret-merger" not in waiting.text and "ACME merger" not in waiting.text
    url = re.search(r'name="attachment_url" form="post-form" value="([^"]+)"', waiting.text)
    assert url is not None and url[1].endswith("/mine.png")
    # Saving again with the waiting file and no new alt text: still nothing of theirs.
    again = post_form(client, "/admin/posts/new", {**fields, "attachment_url": url[1]})
    assert "secret-merger" not in again.text and "ACME merger" not in again.text
    described = {"attachment_url": url[1], "attachment_alt": "파란 네모"}
    saved = post_form(client, "/admin/posts/new", {**fields, **described})
    assert saved.status_code == 303
    page = client.get(saved.headers["Location"]).text
    assert "/mine.png" in page and "secret-merger" not in page
    # The contributor's library lists only their own uploads.
    library = client.get("/admin/media").text
    assert "secret-merger" not in library and "ACME merger" not in library


def test_an_autosave_too_long_to_keep_says_so(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("author")
    too_long = "가" * (app.config["MAX_POST_CHARS"] + 200_000)
    answer = post_form(client, "/admin/posts/new/autosave", {"body": too_long},
                       headers={"HX-Request": "true"})  # fmt: skip
    assert answer.status_code == 413 and "too long to keep" in answer.text


def test_an_unlisted_post_does_not_link_to_category_pages_that_do_not_exist(
    client: FlaskClient, make_post: Any
) -> None:
    slug = make_post(title="By link only", status="unlisted", categories=("Hidden",),
                     tags=("quiet",))  # fmt: skip
    page = client.get(f"/posts/{slug}").text
    assert "Hidden" in page and "/category/hidden" not in page and "/tag/quiet" not in page


# -- found by the review of the change ---------------------------------------------------


def test_a_post_trashed_while_being_edited_gives_the_text_back(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    from tests.editor.test_editing import edit_form

    login("editor")
    post_id = post_id_from(new_post(client, title="곧 지워질 글"))
    form = edit_form(client, post_id)
    with app.app_context(), writing():
        db.session.get(Post, post_id).deleted_at = db.func.now()  # type: ignore[union-attr]
    form["body"] = KEPT
    response = post_form(client, f"/admin/posts/{post_id}/edit", form)
    assert response.status_code == 409
    assert "moved to the trash while you were editing" in response.text and KEPT in response.text


def test_an_old_revision_that_breaks_today_s_rules_comes_back_into_the_form(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    from blog.models import Revision

    login("editor")
    post_id = post_id_from(new_post(client, title="지금 제목"))
    with app.app_context(), writing():
        revision = db.session.execute(
            select(Revision).where(Revision.post_id == post_id)
        ).scalar_one()
        revision.title, revision.source = "옛 제목\x07", f"옛 본문 {KEPT}"
        revision_id = revision.id
    response = post_form(client, f"/admin/posts/{post_id}/revisions/{revision_id}/restore")
    assert response.status_code == 422
    assert "invisible control character" in response.text and KEPT in response.text
    with app.app_context():
        assert db.session.get(Post, post_id).title == "지금 제목"  # type: ignore[union-attr]


def test_markdown_workers_are_reused_and_replaced_when_they_die() -> None:
    from blog.content import markdown_worker

    assert "<em>a</em>" in markdown_worker.render_in_worker("*a*", "markdown")
    with pytest.raises(ValueError, match="unknown source format"):
        markdown_worker.render_in_worker("x", "evil")
    idle = list(markdown_worker._idle)
    assert idle, "a worker that answered (even with an error) goes back to the pool"
    for worker in idle:
        worker.process.kill()
        worker.process.wait()
    assert "<em>b</em>" in markdown_worker.render_in_worker("*b*", "markdown")
    assert all(worker.alive() for worker in markdown_worker._idle)


def test_previews_beyond_the_free_slots_are_told_to_wait() -> None:
    from blog.content import markup

    taken = [markup.PREVIEW_SLOTS.acquire(blocking=False) for _ in range(2)]
    try:
        assert all(taken)
        with pytest.raises(markup.RenderBusy):
            markup.render_preview("*x*", "markdown")
        assert markup.render_preview("<b>x</b>", "html") == "<b>x</b>"  # HTML needs no slot
    finally:
        for _ in taken:
            markup.PREVIEW_SLOTS.release()


def test_renaming_and_deleting_categories_is_audited_and_names_are_checked(
    app: Flask, client: FlaskClient, login: Login, make_post: Any
) -> None:
    from blog.models import AuditEvent

    make_post(title="x", categories=("News",))
    login("editor")
    with app.app_context():
        category_id = db.session.execute(select(Category.id)).scalar_one()
    url = f"/admin/taxonomy/category/{category_id}"
    bad = post_form(client, f"{url}/rename", {"name": "bell\x07"})
    assert bad.status_code == 422 and "invisible control character" in bad.text
    post_form(client, f"{url}/rename", {"name": "World"})
    post_form(client, f"{url}/delete", {"confirmed": "yes"})
    with app.app_context():
        actions = db.session.execute(select(AuditEvent.action, AuditEvent.target)).all()
        assert ("category.rename", "World") in actions and ("category.delete", "World") in actions
        assert db.session.execute(select(func.count(Category.id))).scalar() == 0
