"""The static mirror (BLOG_STATIC_MIRROR): which pages become files, that they are written
whole with their compressed forms, that no change ever leaves an old page served, and the
shipped nginx configuration in front of a real `blog serve`."""

from __future__ import annotations

import gzip
import http.client
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import brotli
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from blog import create_app
from blog import static_mirror as mirror_module
from blog.database import writing
from blog.extensions import db
from blog.models import Category, Post
from blog.static_mirror import StaticMirror, page_file
from tests.conftest import Login, MakePost, app_config, post_form
from tests.editor.test_editing import edit_form
from tests.helpers_http import Answer, HttpBrowser, free_port

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from nginx_mirror import site_config, start_nginx  # noqa: E402

BASE_URL = "http://blog.test"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The test app with a mirror in tmp_path/mirror."""
    mirrored = {"BLOG_STATIC_MIRROR": str(tmp_path / "mirror"), "BLOG_BASE_URL": BASE_URL}
    app = create_app({**app_config(tmp_path), **mirrored}, instance_path=str(tmp_path / "instance"))
    with app.app_context():
        db.create_all()
    yield app
    mirror_of(app).stop()
    with app.app_context():
        db.engine.dispose()


def mirror_of(app: Flask) -> StaticMirror:
    mirror = app.extensions["static_mirror"]
    assert isinstance(mirror, StaticMirror)
    return mirror


def live(app: Flask) -> Path:
    """The live generation, as the web server finds it: through the `current` link."""
    return mirror_of(app).root / "current"


def files_in(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


def test_a_page_is_written_whole_with_its_compressed_forms(app: Flask, make_post: MakePost) -> None:
    slug = make_post(title="거울에 비친 글", slug="거울-글", source="본문 " * 300)
    reader = app.test_client()
    page = reader.get(f"/posts/{slug}")
    home = reader.get("/")
    # nginx decodes the URI before it looks for the file: the name is the decoded UTF-8.
    article = live(app) / "posts" / "거울-글.html"
    assert article.read_bytes() == page.data
    assert gzip.decompress(Path(f"{article}.gz").read_bytes()) == page.data
    assert brotli.decompress(Path(f"{article}.br").read_bytes()) == page.data
    assert (live(app) / ".html").read_bytes() == home.data  # "/" is ".html"
    assert gzip.decompress((live(app) / ".html.gz").read_bytes()) == home.data
    # Readable by the web server's user; no temporary file left behind.
    assert article.stat().st_mode & 0o777 == 0o644
    assert (live(app) / "posts").stat().st_mode & 0o777 == 0o755
    assert not [name for name in files_in(live(app)) if name.endswith(".tmp")]


def test_a_page_is_replaced_by_rename_never_rewritten_in_place(
    app: Flask, make_post: MakePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_post(title="원자적")
    renames: list[tuple[str, str]] = []
    real_replace = os.replace

    def replace(source: Any, target: Any) -> None:
        renames.append((os.path.dirname(source), os.path.basename(target)))
        real_replace(source, target)

    monkeypatch.setattr(mirror_module.os, "replace", replace)
    app.test_client().get("/")
    generation = os.readlink(live(app))
    written = [name for folder, name in renames if folder.endswith(generation)]
    # Each file came from a temporary file in the same directory; the page itself last,
    # so once it is there its compressed forms are too.
    assert written == [".html.gz", ".html.br", ".html"]


def test_a_change_makes_old_pages_unreachable_before_the_response(
    app: Flask, client: FlaskClient, login: Login, make_post: MakePost
) -> None:
    slug = make_post(title="옛 제목")
    with app.app_context():
        post_id = db.session.execute(select(Post.id)).scalar_one()
    reader = app.test_client()
    reader.get(f"/posts/{slug}")
    reader.get("/")
    assert (live(app) / "posts" / f"{slug}.html").exists()
    before = os.readlink(live(app))
    login("editor")
    form = edit_form(client, post_id)
    form["title"] = "새 제목"
    saved = post_form(client, f"/admin/posts/{post_id}/edit", form)
    assert saved.status_code == 303
    # The response has returned: the live generation is a new, empty one.
    assert os.readlink(live(app)) != before
    assert files_in(live(app)) == []
    assert "새 제목" in reader.get(f"/posts/{slug}").text
    assert "새 제목" in (live(app) / "posts" / f"{slug}.html").read_text()


def test_a_change_through_the_cli_retires_the_pages_too(
    app: Flask, runner: FlaskCliRunner, make_post: MakePost
) -> None:
    make_post(title="명령줄")
    app.test_client().get("/")
    assert files_in(live(app)) == [".html", ".html.br", ".html.gz"]
    done = runner.invoke(args=["create-user", "새사람", "--display-name", "새 기자"])
    assert done.exit_code == 0, done.output
    assert files_in(live(app)) == []


def test_a_page_rendered_against_an_old_state_never_becomes_live(
    app: Flask, make_post: MakePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_post(title="렌더링 중 변경")
    mirror = mirror_of(app)
    old = mirror.advance()
    # 1. A page rendered before a change and handed over after it: refused.
    make_post(title="그 사이의 글")
    assert not mirror.store(old, "late.html", {"identity": b"old page"})
    assert files_in(live(app)) == []
    # 2. The change lands after the generation was checked, while the page is written:
    # the page goes into the generation that was live, which is retired by then.
    state = mirror.advance()
    checked_generation = os.readlink(live(app))
    real_write = mirror_module._atomic_write
    changed: list[bool] = []

    def write_after_a_change(directory: Path, name: str, data: bytes) -> None:
        if not changed:
            changed.append(True)
            make_post(title="쓰는 중의 변경")
        real_write(directory, name, data)

    monkeypatch.setattr(mirror_module, "_atomic_write", write_after_a_change)
    mirror.store(state, "late.html", {"identity": b"old page"})
    assert os.readlink(live(app)) != checked_generation
    assert files_in(live(app)) == []
    assert (mirror.root / checked_generation / "late.html").exists()  # dead, never served
    # 3. Through the app: a change committed while a page renders; the page cache serves
    # it once and keeps it nowhere, so the mirror has no file of it either.
    monkeypatch.setattr(mirror_module, "_atomic_write", real_write)

    def change_while_rendering(response: Any) -> Any:
        with writing():
            db.session.add(Category(name="렌더링 중", slug="during-render"))
        return response

    app.after_request_funcs.setdefault(None, []).append(change_while_rendering)
    app.test_client().get("/")
    assert files_in(live(app)) == []


def test_a_scheduled_post_appears_at_its_time(app: Flask, make_post: MakePost) -> None:
    start = datetime(2030, 5, 1, tzinfo=UTC)
    app.config["CLOCK"] = lambda: start
    make_post(title="예약된 글", status="scheduled", published_at=start + timedelta(hours=1))
    reader = app.test_client()
    assert "예약된 글" not in reader.get("/").text
    assert "예약된 글" not in (live(app) / ".html").read_text()
    before = os.readlink(live(app))
    # The watching thread, as `blog serve` starts it: no request, no write.
    mirror_of(app).start()
    app.config["CLOCK"] = lambda: start + timedelta(hours=2)
    deadline = time.monotonic() + 10
    while os.readlink(live(app)) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.readlink(live(app)) != before
    assert not (live(app) / ".html").exists()
    assert "예약된 글" in reader.get("/").text
    assert "예약된 글" in (live(app) / ".html").read_text()


def test_signed_in_admin_htmx_query_and_error_pages_are_not_mirrored(
    app: Flask, client: FlaskClient, login: Login, make_post: MakePost
) -> None:
    slug = make_post(title="읽기만")
    login("editor")
    client.get(f"/posts/{slug}")
    client.get(f"/posts/{slug}")  # kept for this browser by the page cache: never mirrored
    client.get("/admin/")
    reader = app.test_client()
    reader.get("/?page=2")
    reader.get("/", headers={"HX-Request": "true"})
    reader.get("/posts/없는-글")  # 404
    reader.get("/login")  # sets a cookie: never shared
    assert files_in(live(app)) == []
    app.test_client().get(f"/posts/{slug}")
    assert files_in(live(app)) == [f"posts/{slug}.html", f"posts/{slug}.html.br",
                                   f"posts/{slug}.html.gz"]  # fmt: skip


def _environ(path: str, **extra: str) -> dict[str, str]:
    # WSGI carries the decoded path's UTF-8 bytes as latin-1 text.
    return {"REQUEST_METHOD": "GET", "PATH_INFO": path.encode().decode("latin-1"), **extra}


def test_paths_map_to_distinct_files_and_nothing_escapes() -> None:
    assert page_file(_environ("/")) == ".html"
    assert page_file(_environ("/posts/한글-제목")) == "posts/한글-제목.html"
    assert page_file(_environ("/category/a/")) == "category/a/.html"
    assert page_file(_environ("/posts/a.html")) == "posts/a.html.html"
    assert page_file(_environ("/", REQUEST_METHOD="HEAD")) == ".html"
    for path in ["/../etc/passwd", "/posts/..", "/a/./b", "//posts/a", "/a\x00b", "/a\\b",
                 "/a\nb", "/" + "가" * 100, "/a/" * 400, "relative"]:  # fmt: skip
        assert page_file(_environ(path)) is None, path
    assert page_file({"REQUEST_METHOD": "GET", "PATH_INFO": "/\xff\xfe"}) is None  # not UTF-8
    assert page_file(_environ("/posts/a", QUERY_STRING="page=2")) is None
    assert page_file(_environ("/", HTTP_HX_REQUEST="true")) is None
    assert page_file(_environ("/", HTTP_HX_BOOSTED="true")) is None
    assert page_file(_environ("/", REQUEST_METHOD="POST")) is None


# A list's place, as the lists' own links ("More posts", "Newer posts") and old links give it.
PLACES = ["page=2", "page=1000000", "page=0002", "before=1714000000000000-12", "after=0-0",
          "after=1714000000000000-12", "before=99999999999999999-999999999999999999"]  # fmt: skip
NOT_PLACES = ["page=%35", "page=5&page=6", "page=5&x=1", "x=1&page=5", "page=5&", "&page=5",
              "page=", "page", "page=-1", "page=+5", "page=12345678", "page=五", "page=５",
              "Page=5", "PAGE=5", "page=5 ", " page=5", "page=5\n", "page=5;x=1", "page==5",
              "before=1-", "before=-1", "before=1", "before=1-2-3", "before=1_2", "before=1%2D2",
              "before=123456789012345678-1", "before=1-1234567890123456789", "after=1-2&page=3",
              "before=1-2&after=1-2", "q=word", "page%3D5", "place=5", "hpage=5"]  # fmt: skip


def test_a_list_s_place_has_a_file_of_its_own() -> None:
    assert page_file(_environ("/", QUERY_STRING="page=2")) == "@page=2.html"
    assert page_file(_environ("/category/a", QUERY_STRING="before=1714000000000000-12")) == (
        "category/a@before=1714000000000000-12.html"
    )
    assert page_file(_environ("/tag/한글", QUERY_STRING="after=5-6")) == "tag/한글@after=5-6.html"
    for place in PLACES:
        for path in ["/", "/category/a", "/tag/b"]:
            assert page_file(_environ(path, QUERY_STRING=place)) == f"{path[1:]}@{place}.html"
    # Anything else goes to the app: another shape, an encoding, a second parameter.
    for query in NOT_PLACES:
        assert page_file(_environ("/", QUERY_STRING=query)) is None, query
    # Only on the lists; never with an htmx header or for anything but GET and HEAD.
    for path in ["/posts/a", "/category", "/category/", "/category/a/", "/category/a/b",
                 "/tag/../a", "/tag/..", "/tags/a", "/media/x/y", "/feed.xml"]:  # fmt: skip
        assert page_file(_environ(path, QUERY_STRING="page=2")) is None, path
    assert page_file(_environ("/", QUERY_STRING="page=2", HTTP_HX_REQUEST="true")) is None
    assert page_file(_environ("/", QUERY_STRING="page=2", REQUEST_METHOD="POST")) is None
    assert page_file(_environ("/", QUERY_STRING="page=2", REQUEST_METHOD="HEAD")) == "@page=2.html"


def test_no_two_pages_share_a_file() -> None:
    """The mapping is one to one: a path with the mark is never mirrored, so a file name with
    the mark is a list's place (its path before the mark, its query after) and one without is
    a plain path; and a plain path's file is itself plus `.html`."""
    paths = ["/", "/.html", "/a", "/a.html", "/a/", "/a/.html", "/category/a", "/category/a/",
             "/category/a.html", "/category/a@page=2", "/category/a@page=2.html", "/@page=2",
             "/@page=2.html", "/%40page=2", "/tag/a", "/tag/a@", "/tag/@", "/x@y", "/posts/a",
             "/category", "/category/page=2", "/category/a=page=2", "/tag/a?page=2"]  # fmt: skip
    files: dict[str, tuple[str, str]] = {}
    for path in paths:
        for query in ["", *PLACES, *NOT_PLACES[:5]]:
            file = page_file(_environ(path, QUERY_STRING=query))
            if file is None:
                continue
            assert file not in files, (path, query, files.get(file))
            files[file] = (path, query)
            # Read back: the path and the query are the file name's parts.
            stem = file.removesuffix(".html")
            if "@" in stem:
                assert ("/" + stem.split("@")[0], stem.split("@")[1]) == (path, query)
            else:
                assert ("/" + stem, "") == (path, query)
    assert page_file(_environ("/@page=2")) is None  # would be "/?page=2"'s file
    assert page_file(_environ("/category/a@before=1-2")) is None
    assert len(files) > 40


def test_the_mirror_s_places_are_those_the_app_reads(app: Flask) -> None:
    """The lengths match blog/paging.py's: the longest place accepted is one the app parses;
    one digit more, the app answers 404 and the mirror never takes it."""
    from werkzeug.exceptions import NotFound

    from blog.paging import list_position

    for place in PLACES:
        with app.test_request_context(f"/?{place}"):
            assert list_position()
    for too_long in ["page=10000000", "before=123456789012345678-1", "after=1-1234567890123456789"]:
        assert page_file(_environ("/", QUERY_STRING=too_long)) is None
        with app.test_request_context(f"/?{too_long}"), pytest.raises(NotFound):
            list_position()


def test_list_pages_by_place_are_mirrored_and_retired_by_a_change(
    app: Flask, make_post: MakePost
) -> None:
    for number in range(4):
        make_post(title=f"목록 글 {number}")
    reader = app.test_client()
    home = reader.get("/")
    more = re.search(r'class="more-posts" href="/\?(before=[0-9]+-[0-9]+)"', home.text)
    assert more is not None
    older = reader.get(f"/?{more[1]}")
    page_two = reader.get("/?page=2")
    assert older.status_code == page_two.status_code == 200
    assert (live(app) / f"@{more[1]}.html").read_bytes() == older.data
    assert (live(app) / "@page=2.html").read_bytes() == page_two.data
    assert Path(f"{live(app)}/@page=2.html.gz").exists()
    reader.get("/?page=9")  # 404: the app's, never a file
    reader.get(f"/?{more[1]}&x=1")
    # Places the list never links to are answered, never written: the mirror holds only
    # as many list pages as the lists have, however many places are made up.
    moment, post_id = more[1].removeprefix("before=").split("-")
    for made_up in ("page=02", f"before=0{moment}-{post_id}", f"before={moment}-99999",
                    f"before={int(moment) - 1}-{post_id}"):  # fmt: skip
        assert reader.get(f"/?{made_up}").status_code in (200, 404), made_up
    reader.get(f"/?{more[1]}", headers={"HX-Request": "true"})  # a fragment
    assert sorted(name for name in files_in(live(app)) if name.endswith(".html")) == [
        ".html",
        f"@{more[1]}.html",
        "@page=2.html",
    ]
    make_post(title="새로 온 글")
    assert files_in(live(app)) == []
    assert "목록 글 1" not in page_two.text
    assert "목록 글 1" in reader.get("/?page=2").text  # one more post pushed it on
    assert "목록 글 1" in (live(app) / "@page=2.html").read_text()


def test_retired_generations_are_removed_later(app: Flask, make_post: MakePost) -> None:
    mirror = mirror_of(app)
    make_post(title="하나")
    first = os.readlink(live(app))
    make_post(title="둘")
    second = os.readlink(live(app))
    mirror.remove_retired()
    assert (mirror.root / first).exists()  # just retired: a request may still be in it
    old = time.time() - mirror_module.RETIRED_GENERATION_SECONDS - 1
    os.utime(mirror.root / first, (old, old))
    mirror.remove_retired()
    assert not (mirror.root / first).exists() and (mirror.root / second).exists()


def test_when_the_mirror_cannot_follow_readers_go_to_the_app(
    app: Flask, make_post: MakePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_post(title="디스크")
    app.test_client().get("/")
    mirror = mirror_of(app)

    def disk_full() -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mirror, "advance", disk_full)
    make_post(title="가득 찬 디스크")
    assert not live(app).exists()  # nginx finds no file: every reader goes to the app
    monkeypatch.undo()
    assert "가득 찬 디스크" in app.test_client().get("/").text
    assert "가득 찬 디스크" in (live(app) / ".html").read_text()


def test_the_mirror_needs_a_base_url(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="BLOG_BASE_URL"):
        create_app(
            {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'b.sqlite3'}",
             "SECRET_KEY": "x", "BLOG_STATIC_MIRROR": str(tmp_path / "mirror")},
            instance_path=str(tmp_path / "instance"),
        )  # fmt: skip


# The web servers' side ---------------------------------------------------------------------

NGINX_CONF = ROOT / "deploy" / "nginx" / "blog.conf"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
# Headers the web server makes itself for a file (type, length, validators, encoding).
SERVER_MADE = {"content-type", "content-length", "etag", "last-modified", "content-encoding",
               "date", "server", "connection", "accept-ranges", "keep-alive"}  # fmt: skip


def app_page_headers(app: Flask) -> dict[str, str]:
    # Over HTTPS, as the shipped configurations serve (the app adds Strict-Transport-Security).
    answer = app.test_client().get("/", base_url="https://localhost")
    assert answer.status_code == 200
    return {k.lower(): v for k, v in answer.headers.items() if k.lower() not in SERVER_MADE}


def test_the_shipped_configurations_send_the_app_s_headers(app: Flask) -> None:
    expected = app_page_headers(app)
    nginx = dict(re.findall(r'^\s*add_header ([\w-]+) "([^"]*)";', NGINX_CONF.read_text(), re.M))
    assert {k.lower(): v for k, v in nginx.items()} == expected
    block = re.search(r"header \{\n(.*?)\n\s*\}", CADDYFILE.read_text(), re.S)
    assert block is not None
    caddy = dict(re.findall(r'^\s*([\w-]+) "([^"]*)"$', block[1], re.M))
    assert {k.lower(): v for k, v in caddy.items()} == expected


def _wait_for(port: int) -> None:
    for _ in range(400):
        try:
            HttpBrowser(f"http://127.0.0.1:{port}").request("/robots.txt", timeout=1)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("blog serve did not start")


def _fetch(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body as sent: not decompressed)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _upstreams(log: Path, request_line: str) -> list[str]:
    """upstream=... of each logged request with this request line ("-": from the mirror)."""
    return re.findall(rf'"{re.escape(request_line)} HTTP/1\.1" \d+ \d+ upstream=(\S+)',
                      log.read_text())  # fmt: skip


def _served(
    log: Path, browser: HttpBrowser, path: str, headers: dict[str, str] | None = None
) -> tuple[Answer, str]:
    """GET `path` through nginx: the answer and where it came from ("-": the mirror). nginx
    logs a request just after answering it, so its line is awaited."""
    line = f"GET {path}"
    before = len(_upstreams(log, line))
    answer = browser.request(path, headers=headers)
    deadline = time.monotonic() + 10
    while len(logged := _upstreams(log, line)) <= before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(logged) > before, f"nginx logged no {line}"
    return answer, logged[-1]


def _mirrored(log: Path, browser: HttpBrowser, path: str) -> Answer:
    """GET `path` through nginx until the mirror answers it (a few tries). The app writes a
    page to the mirror only when nothing changed while it rendered it; on a busy machine,
    just after a change, it can answer the next request itself once more, never stale."""
    for _ in range(5):
        answer, source = _served(log, browser, path)
        if source == "-":
            return answer
        time.sleep(0.2)
    raise AssertionError(f"the mirror never answered {path}")


def test_nginx_serves_the_mirror_and_passes_the_rest_to_the_app(
    tmp_path: Path, nginx_available: str
) -> None:
    password = "mirror nginx password"
    nginx_port, app_port = free_port(), free_port()
    mirror = tmp_path / "mirror"
    env = {**os.environ, "BLOG_INSTANCE_PATH": str(tmp_path / "instance"), "BLOG_LANGUAGE": "en",
           "BLOG_ADMIN_USER": "admin", "BLOG_ADMIN_PASSWORD": password,
           "BLOG_STATIC_MIRROR": str(mirror), "POSTS_PER_PAGE": "1",
           "BLOG_BASE_URL": f"http://127.0.0.1:{nginx_port}"}  # fmt: skip
    env.pop("DATABASE_URL", None)
    blog = Path(sys.executable).parent / "blog"
    subprocess.run([blog, "init", "--no-sample"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([blog, "serve", "--port", str(app_port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    access_log = tmp_path / "nginx" / "access.log"
    nginx = None
    try:
        _wait_for(app_port)
        nginx = start_nginx(
            tmp_path / "nginx", site_config(nginx_port, app_port, mirror, access_log), nginx_port
        )
        front = HttpBrowser(f"http://127.0.0.1:{nginx_port}")
        writer = HttpBrowser(f"http://127.0.0.1:{nginx_port}")
        writer.sign_in("admin", password)  # POSTs with a body pass through nginx to the app
        fields = {"title": "거울 속 글", "slug": "거울-속-글", "body": "본문 " * 200,
                  "format": "markdown", "status": "published", "version": ""}  # fmt: skip
        created = writer.request("/admin/posts/new", fields)
        assert created.status == 303
        # A newer post: the first one is on the list's second page, one post a page.
        newer = {**fields, "title": "나중 글", "slug": "나중-글"}
        assert writer.request("/admin/posts/new", newer).status == 303
        article = "/posts/%EA%B1%B0%EC%9A%B8-%EC%86%8D-%EA%B8%80"

        first = front.request(article)  # a miss: the app answers and writes the file
        second = _mirrored(access_log, front, article)
        assert first.status == second.status == 200 and "거울 속 글" in second.text
        assert second.text == first.text
        front.request("/")
        _mirrored(access_log, front, "/")

        # The list's own "More posts" link, and an old ?page= link: from the mirror too.
        more = re.search(
            r'class="more-posts" href="(/\?before=[0-9]+-[0-9]+)"', front.request("/").text
        )
        assert more is not None
        older = more[1]
        listed: dict[str, str] = {}
        for path in [older, "/?page=2"]:
            shown = front.request(path)
            again = _mirrored(access_log, front, path)
            listed[path] = again.text
            assert shown.status == again.status == 200 and "거울 속 글" in again.text
            assert again.text == shown.text
        assert (mirror / "current" / f"@{older[2:]}.html").exists()
        code, zipped_list, body = _fetch(nginx_port, older, {"Accept-Encoding": "gzip"})
        assert code == 200 and zipped_list["content-encoding"] == "gzip"
        # (The same page as its plain form: ?page=2 names itself as canonical, so it differs.)
        assert gzip.decompress(body).decode() == listed[older]
        # "Newer posts" from there reaches the top: a redirect, the app's every time.
        back = re.search(r'href="(/\?after=[0-9]+-[0-9]+)"', again.text)
        assert back is not None
        for _ in range(2):
            answer, source = _served(access_log, front, back[1])
            assert answer.status == 302 and source != "-"

        # The same headers as the app sends, plus a validator nginx makes for the file.
        _, by_app, _ = _fetch(app_port, article)
        status, by_nginx, body = _fetch(nginx_port, article)
        assert status == 200 and body.decode() == second.text
        assert {k: v for k, v in by_nginx.items() if k not in SERVER_MADE} == {
            k: v for k, v in by_app.items() if k not in SERVER_MADE
        }
        assert by_nginx["content-type"] == by_app["content-type"] == "text/html; charset=utf-8"
        assert by_nginx["etag"] and by_nginx["last-modified"]
        status, zipped, body = _fetch(nginx_port, article, {"Accept-Encoding": "gzip"})
        assert zipped["content-encoding"] == "gzip"
        assert gzip.decompress(body).decode() == second.text
        status, _, _ = _fetch(nginx_port, article, {"If-None-Match": by_nginx["etag"]})
        assert status == 304

        # An edit through the app is visible at the very next request through nginx.
        edit_url = created.location.removeprefix(f"http://127.0.0.1:{nginx_port}")
        version = re.search(r'name="version"[^>]*value="([^"]*)"', writer.request(edit_url).text)
        assert version is not None
        saved = writer.request(edit_url, {**fields, "title": "고친 제목", "version": version[1]})
        assert saved.status == 303
        assert "고친 제목" in front.request(article).text
        # The list pages too: their files were in the retired generation, so the next
        # request gets the app's new answer, and a later one (the next, unless the machine is
        # busy) gets it from the mirror.
        for path in [older, "/?page=2"]:
            fresh, source = _served(access_log, front, path)
            assert source != "-"
            _, _, direct = _fetch(app_port, path)
            assert fresh.text == direct.decode() != listed[path]
            if fresh.status == 200:
                assert _mirrored(access_log, front, path) == fresh
        assert "고친 제목" in front.request("/").text + front.request("/?page=2").text

        # Signed in, htmx, query string, POST: the app, never the mirror.
        answer, source = _served(access_log, writer, article)
        assert answer.status == 200 and source != "-"
        assert _served(access_log, front, article, {"HX-Request": "true"})[1] != "-"
        assert _served(access_log, front, older, {"HX-Request": "true"})[1] != "-"
        # Any other query string goes to the app, however often: places the app answers
        # with 404, extra parameters, encodings, other spellings, places on other pages.
        # "/%40page=2" is the path "/@page=2", whose file would be "/?page=2"'s.
        for path, status in [("/?page=3", 404), ("/?page=0", 404), ("/?page=12345678", 404),
                             ("/?before=1-99999", 404), ("/?page=2&x=1", 200),
                             ("/?page=2&page=2", 200), ("/?x=1&page=2", 200),
                             ("/?page=%32", 200), ("/?PAGE=2", 200), ("/%40page=2", 404),
                             (f"{article}?page=2", 200), ("/tag/a/b?page=2", 404)]:  # fmt: skip
            for _ in range(2):
                answer, source = _served(access_log, front, path)
                assert answer.status == status and source != "-", path
    finally:
        if nginx is not None:
            nginx.stop()
        server.terminate()
        server.wait(timeout=30)


def test_two_readers_never_see_half_a_page(app: Flask, make_post: MakePost) -> None:
    """A reader opening the file while pages are rewritten gets a whole page every time."""
    make_post(title="동시에", source="긴 본문 " * 3000)
    mirror = mirror_of(app)
    state = mirror.advance()
    pages = [b"A" * 200_000, b"B" * 300_000]
    stop = threading.Event()
    seen: set[int] = set()

    def read() -> None:
        target = live(app) / "race.html"
        while not stop.is_set():
            with suppress(FileNotFoundError):
                seen.add(len(target.read_bytes()))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for round_ in range(30):
            (live(app) / "race.html").unlink(missing_ok=True)
            assert mirror.store(state, "race.html", {"identity": pages[round_ % 2]})
    finally:
        stop.set()
        reader.join()
    assert seen <= {200_000, 300_000}
