"""The page cache: what it keeps, what passes by it, and that no page is ever served stale,
in one process or across two on the same database."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import brotli
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import event, select

from blog.changes import PublicState
from blog.content.settings import set_setting
from blog.database import writing
from blog.extensions import db
from blog.models import Post, User
from blog.page_cache import PageCache
from tests.conftest import Login, MakePost, post_form
from tests.editor.test_editing import edit_form
from tests.helpers_http import HttpBrowser, free_port


def cache_of(app: Flask) -> PageCache:
    assert isinstance(app.wsgi_app, PageCache)
    return app.wsgi_app


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.mark.sqlite_only
def test_a_change_is_signalled_through_shared_memory(app: Flask, make_post: MakePost) -> None:
    cache = cache_of(app)
    assert cache.monitor.signal is not None
    before = cache.monitor.signal.read()
    make_post(title="신호")
    assert cache.monitor.signal.read() != before  # written right after the commit
    reader = app.test_client()
    reader.get("/")
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    reader.get("/")
    assert statements == []  # a hit with no change asks the database nothing


def test_a_hit_runs_no_sql_and_no_flask(
    app: Flask, make_post: MakePost, statements: list[str]
) -> None:
    slug = make_post(title="캐시된 글")
    reader = app.test_client()
    first = reader.get(f"/posts/{slug}")
    assert first.status_code == 200 and "캐시된 글" in first.text
    statements.clear()
    hits = cache_of(app).hits
    second = reader.get(f"/posts/{slug}")
    assert second.data == first.data and cache_of(app).hits == hits + 1
    assert statements == []  # not even the change counter: nobody wrote since
    assert second.headers["ETag"] and second.headers["Last-Modified"]
    # The security headers the app set are kept on every hit.
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]


def test_revalidation_compression_and_head(app: Flask, make_post: MakePost) -> None:
    slug = make_post(title="압축", source="본문 " * 400)
    reader = app.test_client()
    page = reader.get(f"/posts/{slug}")
    etag = page.headers["ETag"]
    assert reader.get(f"/posts/{slug}", headers={"If-None-Match": etag}).status_code == 304
    since = {"If-Modified-Since": page.headers["Last-Modified"]}
    assert reader.get(f"/posts/{slug}", headers=since).status_code == 304
    assert reader.get(f"/posts/{slug}", headers={"If-None-Match": '"other"'}).status_code == 200
    zipped = reader.get(f"/posts/{slug}", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == page.data
    squeezed = reader.get(f"/posts/{slug}", headers={"Accept-Encoding": "gzip, br"})
    assert squeezed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(squeezed.data) == page.data
    # Each form has its own strong ETag (RFC 9110 8.8.3); any of them revalidates.
    assert len({etag, zipped.headers["ETag"], squeezed.headers["ETag"]}) == 3
    revalidated = reader.get(f"/posts/{slug}", headers={"If-None-Match": squeezed.headers["ETag"],
                             "Accept-Encoding": "br"})  # fmt: skip
    assert revalidated.status_code == 304
    assert "Accept-Encoding" in squeezed.headers["Vary"] and "HX-Request" in page.headers["Vary"]
    refused = reader.get(f"/posts/{slug}", headers={"Accept-Encoding": "br;q=0, gzip;q=0"})
    assert "Content-Encoding" not in refused.headers and refused.data == page.data
    head = reader.head(f"/posts/{slug}")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len(page.data))


def test_htmx_fragments_are_kept_apart_from_pages(app: Flask, make_post: MakePost) -> None:
    make_post(title="목록의 글")
    reader = app.test_client()
    page = reader.get("/")
    fragment = reader.get("/", headers={"HX-Request": "true"})
    assert page.data != fragment.data and "<html" not in fragment.text
    assert reader.get("/").data == page.data


def test_admin_pages_and_the_sign_in_pages_pass_by(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    misses, hits = cache_of(app).misses, cache_of(app).hits
    client.get("/admin/")
    client.get("/admin/")
    client.get("/account")
    assert (cache_of(app).misses, cache_of(app).hits) == (misses, hits)
    # The sign-in page sets a session cookie: never kept, never shared.
    anonymous = app.test_client()
    anonymous.get("/login")
    assert "Set-Cookie" in app.test_client().get("/login").headers


# What only a signed-in admin sees on a new blog's home page (never an anonymous reader).
ADMIN_BOX = "how to start"


def test_a_signed_in_reader_has_pages_of_their_own(
    app: Flask, client: FlaskClient, login: Login, statements: list[str]
) -> None:
    anonymous = app.test_client()
    assert ADMIN_BOX not in anonymous.get("/").text
    login("admin")
    mine = client.get("/")
    assert ADMIN_BOX in mine.text  # not the anonymous page
    statements.clear()
    hits = cache_of(app).hits
    again = client.get("/")
    assert again.data == mine.data and cache_of(app).hits == hits + 1
    assert statements == []  # kept for this browser: no session lookup, no query
    # Nobody else is served it: not an anonymous reader, not another signed-in admin.
    assert ADMIN_BOX not in anonymous.get("/").text
    other = app.test_client()
    login("admin", username="other", browser=other)
    misses = cache_of(app).misses
    assert "other" in other.get("/").text and cache_of(app).misses == misses + 1


@pytest.mark.parametrize(
    "header",
    ["session ={value}", 'a="b;session=; "; session={value}', "session={value}; session=x"],
)
def test_a_session_cookie_written_oddly_never_fills_the_anonymous_cache(
    app: Flask, client: FlaskClient, login: Login, header: str
) -> None:
    login("admin")
    cookie = client.get_cookie("session")
    assert cookie is not None
    odd = app.test_client(use_cookies=False)  # the Cookie header exactly as written
    for _ in range(2):  # whatever the cache made of it, Flask signs the browser in
        raw = {"HTTP_COOKIE": header.format(value=cookie.value)}
        assert ADMIN_BOX in odd.get("/", environ_overrides=raw).text
    assert ADMIN_BOX not in app.test_client().get("/").text


def test_a_signed_in_readers_pages_end_with_their_session(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("admin")
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert ADMIN_BOX in client.get("/").text
    assert ADMIN_BOX in client.get("/").text  # a hit
    post_form(client, "/logout", {})
    # Someone who kept the old cookie gets no page of the ended session, from memory or not.
    replay = app.test_client()
    replay.set_cookie("session", cookie.value)
    assert ADMIN_BOX not in replay.get("/").text


def test_a_session_ended_by_another_process_is_seen_at_the_next_request(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    from blog.models import LoginSession

    login("admin")
    assert ADMIN_BOX in client.get("/").text
    assert ADMIN_BOX in client.get("/").text
    with app.app_context(), writing():  # as `blog` in another process would, on the database
        for record in db.session.execute(select(LoginSession)).scalars():
            record.ended_at = record.created_at
    assert ADMIN_BOX not in client.get("/").text


def test_someone_signing_in_while_a_page_renders_does_not_cost_the_anonymous_page(
    app: Flask, client: FlaskClient, login: Login, make_post: MakePost
) -> None:
    from blog.models import LoginSession

    slug = make_post(title="동시에")
    login("editor")
    sessions_moved = []
    cache = cache_of(app)
    render = cache.wsgi_app

    def sessions_change_meanwhile(environ: dict[str, Any], start_response: Any) -> Any:
        if not sessions_moved:  # as another browser signing out would, mid-render
            sessions_moved.append(True)
            with app.app_context(), writing():
                for record in db.session.execute(select(LoginSession)).scalars():
                    record.last_seen_at = record.created_at
        return render(environ, start_response)

    cache.wsgi_app = sessions_change_meanwhile
    reader = app.test_client()
    reader.get(f"/posts/{slug}")
    hits = cache_of(app).hits
    reader.get(f"/posts/{slug}")
    assert sessions_moved and cache_of(app).hits == hits + 1  # kept all the same


def test_a_signed_in_readers_page_lasts_a_minute_at_most(
    app: Flask,
    client: FlaskClient,
    login: Login,
    make_post: MakePost,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slug = make_post(title="일 분")
    login("editor")
    client.get(f"/posts/{slug}")
    hits = cache_of(app).hits
    client.get(f"/posts/{slug}")
    assert cache_of(app).hits == hits + 1
    later = time.monotonic() + 61
    monkeypatch.setattr("blog.page_cache.time.monotonic", lambda: later)
    misses = cache_of(app).misses
    client.get(f"/posts/{slug}")
    assert cache_of(app).misses == misses + 1


def test_signed_in_caching_can_be_turned_off(tmp_path: Path, make_post: MakePost) -> None:
    from blog import create_app

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "PAGE_CACHE_SIGNED_IN_SECONDS": 0,
         "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'off.sqlite3'}"},
        instance_path=str(tmp_path / "off"),
    )  # fmt: skip
    reader = app.test_client()
    reader.set_cookie("session", "anything")
    with app.app_context():
        db.create_all()
    reader.get("/")
    reader.get("/")
    assert (cache_of(app).hits, cache_of(app).misses) == (0, 0)


# Every kind of change that alters a public page, done the way users do it.
Change = Callable[[Flask, FlaskClient, int], str]


def _retitle(app: Flask, editor: FlaskClient, post_id: int) -> str:
    form = edit_form(editor, post_id)
    form["title"] = "새 제목"
    post_form(editor, f"/admin/posts/{post_id}/edit", form)
    return "새 제목"


def _unpublish(app: Flask, editor: FlaskClient, post_id: int) -> str:
    form = edit_form(editor, post_id)
    form["status"] = "draft"
    post_form(editor, f"/admin/posts/{post_id}/edit", form)
    return "!원래 제목"


def _trash(app: Flask, editor: FlaskClient, post_id: int) -> str:
    post_form(editor, f"/admin/posts/{post_id}/delete", {"confirmed": "yes"})
    return "!원래 제목"


def _rename_category(app: Flask, editor: FlaskClient, post_id: int) -> str:
    with app.app_context():
        category_id = db.session.execute(select(Post).where(Post.id == post_id)).scalar_one()
        category_id = category_id.categories[0].id
    post_form(editor, f"/admin/taxonomy/category/{category_id}/rename", {"name": "바뀐 분류"})
    return "바뀐 분류"


def _site_title(app: Flask, editor: FlaskClient, post_id: int) -> str:
    with app.app_context(), writing():
        set_setting("title", "새 블로그 이름")
    return "새 블로그 이름"


def _byline(app: Flask, editor: FlaskClient, post_id: int) -> str:
    with app.app_context(), writing():
        post = db.session.get(Post, post_id)
        assert post is not None
        author = db.session.get(User, post.author_id)
        assert author is not None
        author.display_name = "바뀐 이름"
    return "바뀐 이름"


def _new_post(app: Flask, editor: FlaskClient, post_id: int) -> str:
    post_form(editor, "/admin/posts/new", {"title": "새로 발행한 글", "body": "본문",
              "format": "markdown", "status": "published", "version": ""})  # fmt: skip
    return "새로 발행한 글"


@pytest.mark.parametrize(
    "change", [_retitle, _unpublish, _trash, _rename_category, _site_title, _byline, _new_post]
)
def test_no_page_is_served_stale_after_a_change(
    app: Flask, client: FlaskClient, login: Login, make_post: MakePost, change: Change
) -> None:
    editor_id = login("editor", username="desk")
    with app.app_context(), writing():
        db.session.get(User, editor_id).display_name = "데스크"  # type: ignore[union-attr]
    slug = make_post(title="원래 제목", categories=("원래 분류",), author_id=editor_id)
    make_post(title="다른 작성자의 글")  # lists show bylines with several authors
    with app.app_context():
        post_id = db.session.execute(select(Post.id).where(Post.slug == slug)).scalar_one()
    reader = app.test_client()
    pages = ["/", f"/posts/{slug}", "/category/원래-분류"]
    for page in pages:
        reader.get(page)
        reader.get(page)  # cached now
    expected = change(app, client, post_id)
    seen = " ".join(reader.get(page, follow_redirects=True).text for page in pages)
    if expected.startswith("!"):
        assert expected[1:] not in seen
    else:
        assert expected in seen


def _cached(reader: FlaskClient, *pages: str) -> None:
    for page in pages:
        reader.get(page)
        reader.get(page)


def test_no_page_is_stale_after_scheduling_trashing_and_restoring(
    app: Flask, client: FlaskClient, login: Login, make_post: MakePost
) -> None:
    login("editor")
    slug = make_post(title="오락가락")
    with app.app_context():
        post_id = db.session.execute(select(Post.id).where(Post.slug == slug)).scalar_one()
    reader = app.test_client()
    _cached(reader, "/", f"/posts/{slug}")
    # Scheduled for later: out of the list and its page gone, at once.
    form = edit_form(client, post_id)
    form.update(status="scheduled", published_at="2099-01-01T09:00")
    assert post_form(client, f"/admin/posts/{post_id}/edit", form).status_code == 303
    assert "오락가락" not in reader.get("/").text
    assert reader.get(f"/posts/{slug}").status_code == 404
    # Published again, trashed, restored from the trash.
    form = edit_form(client, post_id)
    form.update(status="published", published_at="2024-01-01T09:00")
    post_form(client, f"/admin/posts/{post_id}/edit", form)
    _cached(reader, "/", f"/posts/{slug}")
    post_form(client, f"/admin/posts/{post_id}/delete", {"confirmed": "yes"})
    assert reader.get(f"/posts/{slug}").status_code == 404
    _cached(reader, "/", f"/posts/{slug}")
    assert post_form(client, f"/admin/trash/{post_id}/restore").status_code == 303
    assert reader.get(f"/posts/{slug}").status_code == 200
    assert "오락가락" in reader.get("/").text


def test_no_page_is_stale_after_a_tag_merge(
    app: Flask, client: FlaskClient, login: Login, make_post: MakePost
) -> None:
    login("editor")
    slug = make_post(title="태그", tags=("옛 태그",))
    make_post(title="다른 태그", tags=("새 태그",))
    reader = app.test_client()
    _cached(reader, f"/posts/{slug}", "/tag/옛-태그")
    with app.app_context():
        from blog.content import taxonomy

        old = taxonomy.find_by_name("tag", "옛 태그")
        target = taxonomy.find_by_name("tag", "새 태그")
        assert old is not None and target is not None
        ids = {"source": str(old.id), "target": str(target.id)}
    assert post_form(client, "/admin/taxonomy/tag/merge", ids).status_code == 303
    assert "새 태그" in reader.get(f"/posts/{slug}").text
    assert reader.get("/tag/옛-태그").status_code == 301


def test_no_page_is_stale_after_an_import_from_the_command_line(
    app: Flask, tmp_path: Path, make_post: MakePost
) -> None:
    make_post(title="있던 글")
    reader = app.test_client()
    _cached(reader, "/")
    posts = tmp_path / "site/_posts"
    posts.mkdir(parents=True)
    (posts / "2024-05-01-imported.md").write_text(
        "---\ntitle: 가져온 글\n---\n본문\n", encoding="utf-8"
    )
    result = app.test_cli_runner().invoke(args=["import-jekyll", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    assert "가져온 글" in reader.get("/").text


def test_no_media_file_is_served_after_it_is_deleted(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), (9, 8, 7)).save(picture, "PNG")
    post_form(client, "/admin/media", {"file": (io.BytesIO(picture.getvalue()), "y.png"),
              "alt": "점"}, content_type="multipart/form-data")  # fmt: skip
    with app.app_context():
        from blog.content.media import media_url
        from blog.models import Media

        item = db.session.execute(select(Media)).scalar_one()
        url, media_id = media_url(item), item.id
    reader = app.test_client()
    _cached(reader, url)
    deleted = post_form(client, f"/admin/media/{media_id}/delete", {"confirmed": "yes"})
    assert deleted.status_code == 303
    assert reader.get(url).status_code == 404


def test_a_scheduled_post_appears_at_its_time_without_any_write(
    app: Flask, make_post: MakePost
) -> None:
    start = datetime(2030, 5, 1, tzinfo=UTC)
    app.config["CLOCK"] = lambda: start
    make_post(title="예약된 글", status="scheduled", published_at=start + timedelta(hours=1))
    reader = app.test_client()
    assert "예약된 글" not in reader.get("/").text
    assert "예약된 글" not in reader.get("/").text  # from the cache
    app.config["CLOCK"] = lambda: start + timedelta(hours=2)
    assert "예약된 글" in reader.get("/").text


def test_the_cache_keeps_to_its_size(app: Flask, make_post: MakePost) -> None:
    slugs = [make_post(source="가나다 " * 2000) for _ in range(12)]
    cache = cache_of(app)
    cache.max_bytes = 200_000  # a page here is about 25 KB with its compressed forms
    cache.clear()
    reader = app.test_client()
    for slug in slugs:
        reader.get(f"/posts/{slug}")
    assert 0 < cache._size <= cache.max_bytes
    assert 0 < len(cache._entries) < len(slugs)  # the least recently used went
    hits = cache.hits
    reader.get(f"/posts/{slugs[-1]}")  # the newest stayed
    assert cache.hits == hits + 1
    reader.get(f"/posts/{slugs[0]}")  # the oldest was evicted
    assert cache.hits == hits + 1


def test_images_and_media_are_not_compressed_again(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(picture, "PNG")
    stored = post_form(client, "/admin/media", {"file": (io.BytesIO(picture.getvalue()),
                       "x.png"), "alt": "점"}, content_type="multipart/form-data")  # fmt: skip
    assert stored.status_code == 303
    with app.app_context():
        from blog.content.media import media_url
        from blog.models import Media

        url = media_url(db.session.execute(select(Media)).scalar_one())
    reader = app.test_client()
    answer = reader.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert answer.status_code == 200 and "Content-Encoding" not in answer.headers


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    blog = Path(sys.executable).parent / "blog"
    return subprocess.Popen([blog, "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def _wait(port: int) -> None:
    for _ in range(200):
        try:
            HttpBrowser(f"http://127.0.0.1:{port}").request("/", timeout=1)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def test_two_processes_on_one_database_see_each_other_s_changes_at_once(tmp_path: Path) -> None:
    password = "two process password"
    env = {**os.environ, "BLOG_INSTANCE_PATH": str(tmp_path / "instance"), "BLOG_LANGUAGE": "en",
           "BLOG_ADMIN_USER": "admin", "BLOG_ADMIN_PASSWORD": password}  # fmt: skip
    env.pop("DATABASE_URL", None)
    blog = Path(sys.executable).parent / "blog"
    subprocess.run([blog, "init", "--no-sample"], env=env, check=True, capture_output=True)
    ports = free_port(), free_port()
    servers = [_serve(env, port) for port in ports]
    try:
        for port in ports:
            _wait(port)
        writer = HttpBrowser(f"http://127.0.0.1:{ports[0]}")
        writer.sign_in("admin", password)
        reader = HttpBrowser(f"http://127.0.0.1:{ports[1]}")
        for number in range(5):
            title = f"두 프로세스 {number}"
            assert reader.request("/").text.count(title) == 0
            reader.request("/")  # cached in the second process
            fields = {"title": title, "body": "본문", "format": "markdown",
                      "status": "published", "version": ""}  # fmt: skip
            saved = writer.request("/admin/posts/new", fields)
            assert saved.status == 303
            # The very next request to the other process shows it.
            assert title in reader.request("/").text, number
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


def test_when_the_database_cannot_tell_freshness_the_app_answers(
    app: Flask, make_post: MakePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    slug = make_post(title="늘 새로운 글")
    reader = app.test_client()
    reader.get(f"/posts/{slug}")  # cached

    def locked(_now: datetime) -> PublicState:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(cache_of(app).monitor.watcher, "state", locked)
    cache_of(app).monitor.forget()  # time for the once-a-second look at the database
    hits = cache_of(app).hits
    answer = reader.get(f"/posts/{slug}")
    assert answer.status_code == 200 and "늘 새로운 글" in answer.text
    assert cache_of(app).hits == hits  # nothing was served from memory
