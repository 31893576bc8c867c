"""Compression of what the page cache does not keep (signed-in readers, /admin, fragments for
them): gzip or brotli as the browser accepts, for text worth it; never twice."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from blog import create_app
from blog.compression import compressing
from blog.extensions import db
from blog.page_cache import PageCache
from tests.conftest import Login, MakePost, post_form

BOTH = {"Accept-Encoding": "gzip, br"}


def test_a_signed_in_page_is_compressed_and_decompresses_to_the_same_html(
    app: Flask, client: FlaskClient, login: Login, make_post: MakePost
) -> None:
    slug = make_post(title="압축되는 글", source="본문 " * 400)
    login("editor")
    misses = cache_misses(app)
    plain = client.get(f"/posts/{slug}")
    assert "Content-Encoding" not in plain.headers and "압축되는 글" in plain.text
    assert "Accept-Encoding" in plain.headers["Vary"]
    squeezed = client.get(f"/posts/{slug}", headers=BOTH)
    assert squeezed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(squeezed.data) == plain.data
    assert int(squeezed.headers["Content-Length"]) == len(squeezed.data) < len(plain.data)
    zipped = client.get(f"/posts/{slug}", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert "Accept-Encoding" in zipped.headers["Vary"] and "Cookie" in zipped.headers["Vary"]
    refused = client.get(f"/posts/{slug}", headers={"Accept-Encoding": "br;q=0, gzip;q=0"})
    assert "Content-Encoding" not in refused.headers
    # Kept for this browser by the page cache (one miss), compressed once when stored.
    assert cache_misses(app) == misses + 1


def test_pages_behind_the_login_are_never_compressed_and_public_fragments_are(
    client: FlaskClient, login: Login, make_post: MakePost
) -> None:
    for number in range(3):
        make_post(title=f"목록 {number}")
    login("editor")
    # They carry the CSRF token and echo what was typed: compressed, their sizes would
    # give the token away (BREACH).
    for page in ("/admin/", "/admin/?q=secret", "/account"):
        admin = client.get(page, headers=BOTH)
        assert admin.status_code == 200 and "Content-Encoding" not in admin.headers, page
        assert "csrf" in admin.text.lower()
    fragment = client.get("/", headers={**BOTH, "HX-Request": "true"})
    assert fragment.headers["Content-Encoding"] == "br"
    assert b"<html" not in brotli.decompress(fragment.data)


def test_small_answers_images_and_head_are_sent_as_they_are(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    small = client.get("/login", headers=BOTH)  # signed in already: a redirect
    assert small.status_code in (302, 303) and "Content-Encoding" not in small.headers
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(picture, "PNG")
    stored = post_form(client, "/admin/media", {"file": (io.BytesIO(picture.getvalue()),
                       "x.png"), "alt": "점"}, content_type="multipart/form-data")  # fmt: skip
    assert stored.status_code == 303
    with app.app_context():
        from blog.content.media import media_url
        from blog.models import Media

        url = media_url(db.session.execute(select(Media)).scalar_one())
    image = client.get(url, headers=BOTH)  # signed in: passes by the page cache
    assert image.status_code == 200 and "Content-Encoding" not in image.headers
    head = client.head("/admin/", headers=BOTH)
    assert head.status_code == 200 and head.data == b""
    assert "Content-Encoding" not in head.headers


def test_a_page_the_cache_will_not_keep_is_compressed_all_the_same(
    tmp_path: Path, make_post: MakePost
) -> None:
    small_cache = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'small.sqlite3'}",
            "BLOG_LANGUAGE": "en",
            "PAGE_CACHE_BYTES": 4096,  # a page larger than a quarter of this is not kept
        },
        instance_path=str(tmp_path / "small-instance"),
    )
    with small_cache.app_context():
        db.create_all()
    reader = small_cache.test_client()
    plain = reader.get("/")
    assert len(plain.data) > 1024
    squeezed = reader.get("/", headers=BOTH)
    assert squeezed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(squeezed.data) == plain.data
    cache = small_cache.wsgi_app
    assert isinstance(cache, PageCache) and not cache._entries
    with small_cache.app_context():
        db.engine.dispose()


def test_the_page_cache_stores_the_plain_page_and_compresses_it_itself(
    app: Flask, make_post: MakePost
) -> None:
    slug = make_post(title="한 번 압축", source="본문 " * 400)
    reader = app.test_client()
    first = reader.get(f"/posts/{slug}", headers=BOTH)  # the miss that fills the cache
    assert first.headers["Content-Encoding"] == "br"
    plain = reader.get(f"/posts/{slug}")
    assert brotli.decompress(first.data) == plain.data and b"<html" in plain.data
    assert first.headers["Vary"].count("Accept-Encoding") == 1


# The layer itself, around plain WSGI apps: what it must leave alone.


def wsgi_app(
    body: bytes | Iterator[bytes], headers: list[tuple[str, str]], status: str = "200 OK"
) -> Any:
    def application(environ: dict[str, Any], start_response: Any) -> Any:
        start_response(status, headers)
        return [body] if isinstance(body, bytes) else body

    return application


def call(application: Any, **environ: str) -> tuple[str, dict[str, str], bytes]:
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    environ = {"REQUEST_METHOD": "GET", "HTTP_ACCEPT_ENCODING": "gzip, br", **environ}
    body = b"".join(compressing(application, environ, start_response))
    return answer["status"], answer["headers"], body


TEXT = "<p>문단</p>\n".encode() * 200


def html(body: bytes, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
            *extra]  # fmt: skip


def test_text_worth_it_is_compressed_with_a_weak_etag() -> None:
    _, headers, body = call(wsgi_app(TEXT, html(TEXT, ("ETag", '"v1"'))))
    assert headers["Content-Encoding"] == "br" and brotli.decompress(body) == TEXT
    assert headers["Content-Length"] == str(len(body)) and headers["Vary"] == "Accept-Encoding"
    assert headers["ETag"] == 'W/"v1"'  # the compressed body is another representation


@pytest.mark.parametrize(
    ("body", "headers", "status", "method"),
    [
        (b"<p>short</p>", html(b"<p>short</p>"), "200 OK", "GET"),
        (TEXT, html(TEXT, ("Content-Encoding", "gzip")), "200 OK", "GET"),
        (
            TEXT,
            [("Content-Type", "image/png"), ("Content-Length", str(len(TEXT)))],
            "200 OK",
            "GET",
        ),  # fmt: skip
        (TEXT, html(TEXT), "304 NOT MODIFIED", "GET"),
        (TEXT, html(TEXT), "206 PARTIAL CONTENT", "GET"),
        (b"", html(TEXT), "200 OK", "HEAD"),
    ],
    ids=["small", "already encoded", "image", "304", "range", "HEAD"],
)
def test_what_is_sent_as_it_is(
    body: bytes, headers: list[tuple[str, str]], status: str, method: str
) -> None:
    _, sent, sent_body = call(wsgi_app(body, headers, status), REQUEST_METHOD=method)
    assert sent == dict(headers) and sent_body == body


def test_a_streamed_answer_passes_as_it_comes() -> None:
    pieces = iter([b"<p>" * 400, b"</p>" * 400])
    application = wsgi_app(pieces, [("Content-Type", "text/html")])
    _, headers, body = call(application)
    assert "Content-Encoding" not in headers and body == b"<p>" * 400 + b"</p>" * 400


def cache_misses(app: Flask) -> int:
    cache = app.wsgi_app
    assert isinstance(cache, PageCache)
    return cache.misses
