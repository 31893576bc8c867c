"""`blog serve`'s waitress: a 304 keeps the connection open, as any response with a length does."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from waitress import wasyncore

from blog.serving import create
from tests.conftest import MakePost


@pytest.fixture
def served(app: Flask) -> Iterator[int]:
    server = create(app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.effective_port
    finally:
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()


def test_a_revalidation_keeps_the_connection_open(served: int, make_post: MakePost) -> None:
    slug = make_post(title="다시 확인")
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    connection.request("GET", f"/posts/{slug}")
    page = connection.getresponse()
    page.read()
    etag = page.getheader("ETag")
    assert page.status == 200 and etag
    connection.request("GET", f"/posts/{slug}", headers={"If-None-Match": etag})
    revalidated = connection.getresponse()
    assert revalidated.status == 304 and revalidated.read() == b""
    assert revalidated.getheader("Connection") != "close"
    assert revalidated.getheader("Content-Length") is None  # RFC 9110: none, or the 200's
    socket_before = connection.sock
    connection.request("GET", f"/posts/{slug}")  # the same connection, still open
    again = connection.getresponse()
    assert again.status == 200 and "다시 확인" in again.read().decode()
    assert connection.sock is socket_before
    connection.close()


def test_a_client_that_asks_to_close_is_answered_and_closed(
    served: int, make_post: MakePost
) -> None:
    slug = make_post(title="닫기")
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    connection.request("GET", f"/posts/{slug}")
    etag = connection.getresponse().getheader("ETag")
    connection.close()
    connection.request(
        "GET", f"/posts/{slug}", headers={"If-None-Match": str(etag), "Connection": "close"}
    )
    answer = connection.getresponse()
    assert answer.status == 304 and answer.getheader("Connection") == "close"
    connection.close()


def test_blog_serve_asks_glibc_for_two_malloc_arenas() -> None:
    """Fewer arenas keep the RSS of a full page cache down (see limit_malloc_arenas)."""
    import platform

    from blog.serving import limit_malloc_arenas

    assert limit_malloc_arenas() is (platform.libc_ver()[0] == "glibc")
