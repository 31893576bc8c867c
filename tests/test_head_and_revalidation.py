"""HEAD is answered without a body on every path (from the page cache, past it, static files),
as waitress sends it; media answer If-None-Match with 304 whoever asks."""

from __future__ import annotations

import io
import socket

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from blog.extensions import db
from tests.conftest import Login, MakePost, post_form
from tests.helpers_http import HttpBrowser
from tests.test_static_files import static_links


def head_over_the_wire(base: str, path: str, cookie: str = "") -> tuple[str, bytes]:
    """What waitress sends for a HEAD, byte for byte: its status line and headers, and what
    follows them (which must be nothing)."""
    host = base.removeprefix("http://")
    request = f"HEAD {path} HTTP/1.0\r\nHost: {host}\r\nAccept-Encoding: gzip, br\r\n"
    if cookie:
        request += f"Cookie: {cookie}\r\n"
    address, port = host.rsplit(":", 1)
    with socket.create_connection((address, int(port)), timeout=30) as connection:
        connection.sendall((request + "\r\n").encode())
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


def test_head_is_answered_without_a_body_over_the_wire(
    app: Flask, client: FlaskClient, live_server: str, login: Login, make_post: MakePost
) -> None:
    slug = make_post(title="머리만", source="본문 " * 400)
    reader = HttpBrowser(live_server)
    page = reader.request(f"/posts/{slug}")
    assert page.status == 200
    for _ in range(2):  # the miss that fills the cache, then a hit
        head, body = head_over_the_wire(live_server, f"/posts/{slug}")
        assert head.startswith("HTTP/1.0 200") and body == b""
        assert "Content-Encoding: br" in head
    for link in static_links(page.text):
        head, body = head_over_the_wire(live_server, link)
        assert head.startswith("HTTP/1.0 200") and body == b"", link
    # A signed-in reader's page (kept for their browser: one miss) and an admin page, which
    # passes by the page cache.
    login("editor")  # the test client's session, sent to the live server
    session = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert session is not None
    cookie = f"{session.key}={session.value}"
    misses = app.wsgi_app.misses  # type: ignore[attr-defined]
    for path in (f"/posts/{slug}", "/admin/"):
        head, body = head_over_the_wire(live_server, path, cookie)
        assert head.startswith("HTTP/1.0 200") and body == b"", path
    assert app.wsgi_app.misses == misses + 1  # type: ignore[attr-defined]


def test_media_answer_if_none_match_with_304_past_the_page_cache_too(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    picture = io.BytesIO()
    Image.new("RGB", (32, 32), (9, 8, 7)).save(picture, "PNG")
    stored = post_form(client, "/admin/media", {"file": (io.BytesIO(picture.getvalue()),
                       "x.png"), "alt": "점"}, content_type="multipart/form-data")  # fmt: skip
    assert stored.status_code == 303
    with app.app_context():
        from blog.content.media import media_url
        from blog.models import Media

        url = media_url(db.session.execute(select(Media)).scalar_one())
    for browser in (client, app.test_client()):  # signed in (the app answers), anonymous
        image = browser.get(url)
        assert image.status_code == 200 and image.headers["ETag"]
        again = browser.get(url, headers={"If-None-Match": image.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
        head = browser.head(url)
        assert head.status_code == 200 and head.data == b""
