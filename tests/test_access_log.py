"""`blog serve`'s access log: one JSON line per request, no query string, no cookie."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import pytest
from flask import Flask
from werkzeug.test import Client

from blog.access_log import AccessLog
from tests.conftest import MakePost


@pytest.fixture
def logged(app: Flask) -> AccessLog:
    return AccessLog(app)


def lines(access_log: AccessLog, caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    with caplog.at_level(logging.INFO, logger="blog.access"):
        access_log.flush()
    return [json.loads(line) for r in caplog.records for line in r.getMessage().split("\n")]


def test_one_line_per_request_with_what_was_answered(
    logged: AccessLog, make_post: MakePost, caplog: pytest.LogCaptureFixture
) -> None:
    slug = make_post(title="한·미 동맹")
    browser = Client(logged)
    first = browser.get(f"/posts/{quote(slug)}")
    second = browser.get(f"/posts/{quote(slug)}")  # from the page cache
    missing = browser.get("/posts/없는-글")
    seen = lines(logged, caplog)
    assert [line["status"] for line in seen] == [200, 200, 404]
    assert [line["bytes"] for line in seen] == [
        len(first.data), len(second.data), len(missing.data)
    ]  # fmt: skip
    assert seen[0]["path"] == f"/posts/{slug}" and seen[2]["path"] == "/posts/없는-글"
    assert {line["method"] for line in seen} == {"GET"}
    for line in seen:
        assert set(line) == {"time", "method", "path", "status", "ms", "bytes"}
        assert isinstance(line["ms"], float) and line["ms"] >= 0
        assert str(line["time"]).endswith("Z")


def test_no_query_string_cookie_or_header_is_logged(
    logged: AccessLog, caplog: pytest.LogCaptureFixture
) -> None:
    browser = Client(logged)
    browser.set_cookie("session", "secret-session-value")
    browser.get("/reset/secret-token-in-path?token=secret-query", headers={"Referer": "secret-ref"})
    browser.post("/login?next=secret-next", data={"password": "secret-password"}).close()
    text = json.dumps(lines(logged, caplog), ensure_ascii=False)
    assert "secret-token" not in text and '"/reset/[token]"' in text
    assert "secret-query" not in text and "secret-session-value" not in text
    assert "secret-ref" not in text and "secret-password" not in text and "secret-next" not in text
    assert '"method": "POST"' in text


def test_hostile_paths_stay_one_short_line(
    logged: AccessLog, caplog: pytest.LogCaptureFixture
) -> None:
    Client(logged).get("/" + quote('가\n\x00"}') + "x" * 10_000)
    (line,) = lines(logged, caplog)
    assert str(line["path"]).startswith('/가\n\x00"}x') and len(str(line["path"])) == 2000
    assert "\n" not in caplog.records[0].getMessage()  # escaped, as JSON does


def test_a_streamed_body_is_counted_when_it_ends(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def streaming(environ: dict[str, object], start_response: object) -> object:
        start_response("200 OK", [("Content-Type", "text/plain")])  # type: ignore[operator]
        yield b"12345"
        yield "가".encode()

    logged = AccessLog(streaming)  # type: ignore[arg-type]
    body = Client(logged).get("/stream").data
    (line,) = lines(logged, caplog)
    assert body == "12345가".encode() and line["bytes"] == 8 and line["status"] == 200


def test_the_writer_writes_what_is_noted_when_stopped(
    logged: AccessLog, caplog: pytest.LogCaptureFixture
) -> None:
    logged.start()
    Client(logged).get("/")
    with caplog.at_level(logging.INFO, logger="blog.access"):
        logged.stop()
    assert [json.loads(r.getMessage())["path"] for r in caplog.records] == ["/"]


def test_lines_of_many_requests_are_written_together_one_per_line(
    logged: AccessLog, caplog: pytest.LogCaptureFixture
) -> None:
    browser = Client(logged)
    for path in ("/", "/healthz", "/없음"):
        browser.get(path)
    assert [line["path"] for line in lines(logged, caplog)] == ["/", "/healthz", "/없음"]
