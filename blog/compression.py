"""gzip and brotli for text responses, chosen by the request's Accept-Encoding.

Compression happens outside Flask, in the page cache's WSGI layer, and only there: a page the
cache keeps is compressed once, when it is stored (`page_cache.py`); every answer it does not
keep (signed-in readers, /admin, responses it refuses to store) is compressed here, per
response, at levels cheap enough for that (gzip 6, brotli 5). The app itself never
compresses, so the cache always sees, and stores, the plain body.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable
from typing import Any

import brotli

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Responses worth compressing; images and media are already compressed.
TEXT_TYPES = ("text/", "application/xml", "application/atom+xml", "application/rss+xml",
              "application/json", "application/javascript", "image/svg+xml")  # fmt: skip
# Below this, the encoding's own header and framing eat what it saves.
MIN_SIZE = 512
# Statuses whose answer has no body worth compressing (or, for 206, a byte range of one).
_BODILESS = {"204", "206", "304"}


def worth_compressing(content_type: str, size: int) -> bool:
    return content_type.startswith(TEXT_TYPES) and size >= MIN_SIZE


def compress(body: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return bytes(brotli.compress(body, quality=5))
    return gzip.compress(body, compresslevel=6, mtime=0)


def negotiate(accepted: str, offered: Iterable[str]) -> str:
    """br, else gzip, else the plain body: what the client accepts (q=0 refuses)."""
    qualities = {}
    for part in accepted.lower().split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        qualities[name.strip()] = quality
    for name in ("br", "gzip"):
        if name in offered and qualities.get(name, qualities.get("*", 0.0)) > 0:
            return name
    return "identity"


def with_vary(headers: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    """The headers with `name` added to Vary (once)."""
    vary: list[str] = []
    rest = []
    for header, value in headers:
        if header.lower() == "vary":
            vary += [part.strip() for part in value.split(",") if part.strip()]
        else:
            rest.append((header, value))
    if name.lower() not in {part.lower() for part in vary}:
        vary.append(name)
    return [*rest, ("Vary", ", ".join(vary))]


def _compressible(environ: dict[str, Any], status: str, headers: list[tuple[str, str]]) -> bool:
    """Whether an answer is text of a known, sizeable length, not yet encoded."""
    names = {name.lower(): value for name, value in headers}
    if environ.get("REQUEST_METHOD") == "HEAD" or status[:3] in _BODILESS:
        return False
    if "content-encoding" in names:
        return False
    # Pages behind a login (security.py marks them no-store) carry the session's CSRF
    # token and echo what was typed (a search): compressed, an attacker who can make the
    # browser send requests could read the token from their sizes (BREACH).
    if "no-store" in names.get("cache-control", "").lower():
        return False
    # No Content-Length: a streamed body, sent as it comes rather than held back.
    length = names.get("content-length", "")
    if not length.isdigit():
        return False
    return worth_compressing(names.get("content-type", ""), int(length))


def encoded(
    environ: dict[str, Any], status: str, headers: list[tuple[str, str]], body: bytes
) -> tuple[list[tuple[str, str]], bytes]:
    """A whole answer, compressed as the client accepts when it is worth it."""
    if not _compressible(environ, status, headers):
        return headers, body
    headers = with_vary(headers, "Accept-Encoding")
    encoding = negotiate(environ.get("HTTP_ACCEPT_ENCODING", ""), ("br", "gzip"))
    if encoding == "identity":
        return headers, body
    body = compress(body, encoding)
    headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
    headers += [("Content-Encoding", encoding), ("Content-Length", str(len(body)))]
    # A strong ETag names one exact body; the compressed one is another (RFC 9110 8.8.3).
    return [
        (name, "W/" + value if name.lower() == "etag" and value.startswith('"') else value)
        for name, value in headers
    ], body


def compressing(app: WSGIApp, environ: dict[str, Any], start_response: StartResponse) -> Any:
    """Run the app and send its answer, compressed when it is text worth compressing.

    Only answers with a Content-Length are held back to be compressed; streamed ones pass as
    they come.
    """
    captured: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"], captured["headers"] = status, headers
        captured["exc_info"] = exc_info
        return lambda data: captured.setdefault("written", []).append(data)

    result = app(environ, capture)
    status, headers = captured["status"], captured["headers"]
    if not captured.get("written") and not _compressible(environ, status, headers):
        start_response(status, headers, captured["exc_info"])
        return result
    try:
        body = b"".join([*captured.get("written", []), *result])
    finally:
        if hasattr(result, "close"):
            result.close()
    headers, body = encoded(environ, status, headers, body)
    start_response(status, headers, captured["exc_info"])
    return [body]
