"""A whole-response cache for anonymous readers, in front of the Flask app (WSGI).

A hit is answered from memory: no ORM, no session, no template. Entries are keyed by
method, host, path, query string and HX-Request, and hold the body with its gzip and
brotli forms (compressed once, when stored), an ETag and Last-Modified, so revalidations
get 304. Anything but GET/HEAD, /admin and the sign-in pages, a browser that Flask-Login
may sign in again (remember cookie) and responses that set a cookie or say private or
no-store pass straight through, compressed per response (`compression.py`); the app never
compresses, so what is stored is always the plain body.

A signed-in reader (any browser with a session cookie) gets entries of their own, keyed by
the signed cookie itself, so no one else can be served them; they last while no session
is started or ended anywhere (the sessions counter) and a minute at most. Static files are
the same bytes for everyone and shared by all.

Never stale: every write to a public table bumps a change counter in the same transaction
(`database.writing()`); the cache compares the public state (`changes.ChangeMonitor`:
that counter and when the next scheduled post is due) before each hit, so a change through
any process on the database is seen at the very next request, and a scheduled post at its
time. The comparison is a read of shared memory on SQLite (see changes.py).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import parse_cookie

from .changes import ChangeMonitor, PublicState
from .compression import compress, compressing, encoded, negotiate, with_vary, worth_compressing
from .security import PRIVATE_PREFIXES
from .static_mirror import NOT_MIRRORED, mirror_for, page_file

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_CACHEABLE_STATUS = {200, 301, 308, 404, 410}
# Headers the cache sets itself on every answer.
_OWN_HEADERS = {"content-length", "content-encoding", "etag", "last-modified", "date"}


@dataclass
class Entry:
    status: str
    headers: list[tuple[str, str]]
    bodies: dict[str, bytes]  # "identity", "gzip", "br"
    etag: str
    last_modified: str
    # A signed-in reader's entry: valid while the sessions counter stays at this value, and
    # until this monotonic time. None for anonymous entries.
    sessions: int | None = None
    expires: float | None = None
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = sum(len(body) for body in self.bodies.values()) + 512


class PageCache:
    """WSGI middleware: wrap `app.wsgi_app` with it."""

    def __init__(
        self, app: Flask, wsgi_app: WSGIApp, max_bytes: int, monitor: ChangeMonitor
    ) -> None:
        self.app, self.wsgi_app, self.max_bytes = app, wsgi_app, max_bytes
        self.monitor = monitor
        # Pages kept here are also written out as files for nginx (BLOG_STATIC_MIRROR).
        self.mirror = mirror_for(app, monitor)
        self._entries: OrderedDict[tuple[str, ...], Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._size = 0
        # The public state every entry was stored against.
        self._state: PublicState | None = None
        self.hits = self.misses = 0
        self._cookie = str(app.config.get("SESSION_COOKIE_NAME", "session"))
        self._remember_cookie = str(app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
        # How long a signed-in reader's page is kept (0: their requests pass by).
        self.signed_in_seconds = float(app.config.get("PAGE_CACHE_SIGNED_IN_SECONDS", 60))

    # What passes through ---------------------------------------------------------------

    def _bypass(self, environ: dict[str, Any]) -> bool:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return True
        path = environ.get("PATH_INFO", "")
        if path.startswith((*PRIVATE_PREFIXES, "/logout")):
            return True
        if path.startswith("/static/"):
            return False  # the same bytes for everyone: kept for signed-in readers too
        header = environ.get("HTTP_COOKIE", "")
        if self._cookie not in header and self._remember_cookie not in header:
            return False
        cookies = parse_cookie(header)
        if self._remember_cookie in cookies:
            return True  # Flask-Login may sign the browser in again: a new session cookie
        if self._cookie in cookies:
            return self.signed_in_seconds <= 0
        # The name is there, but not as a cookie this parser finds: Flask's might (spaces,
        # quoting). Whether the browser is signed in cannot be told, so nothing is kept.
        return True

    def _session_cookie(self, environ: dict[str, Any]) -> str:
        """The session cookie's value as Flask reads it, "" without one."""
        header = environ.get("HTTP_COOKIE", "")
        if self._cookie not in header:
            return ""
        return str(parse_cookie(header).get(self._cookie, ""))

    def _key(self, environ: dict[str, Any]) -> tuple[str, ...]:
        path = environ.get("PATH_INFO", "")
        return (
            # A browser with a session (signed in, or holding a form's CSRF token) has
            # entries of its own, found only by the same signed cookie; anonymous
            # readers share theirs, and everyone shares static files.
            "" if path.startswith("/static/") else self._session_cookie(environ),
            environ.get("HTTP_HOST", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            # htmx asks for a fragment, unless the request is boosted or a history restore.
            "|".join(
                environ.get(f"HTTP_HX_{name}", "")
                for name in ("REQUEST", "BOOSTED", "HISTORY_RESTORE_REQUEST")
            ),  # fmt: skip
            environ.get("HTTP_X_FORWARDED_PROTO", "") + environ.get("wsgi.url_scheme", ""),
        )

    # The cache --------------------------------------------------------------------------

    def _fresh_state(self) -> None:
        """Drop every entry if the database changed or a scheduled post fell due."""
        state = self.monitor.state()
        if state is self._state:
            return
        with self._lock:
            if self._state is not None and state.pages != self._state.pages:
                self._entries.clear()
                self._size = 0
            self._state = state

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0
            self._state = None
        self.monitor.forget()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.max_bytes <= 0 or self._bypass(environ):
            return compressing(self.wsgi_app, environ, start_response)
        try:
            self._fresh_state()
        except (SQLAlchemyError, sqlite3.Error):
            # The database cannot say whether pages are fresh (locked, not yet upgraded,
            # corrupt: the watcher asks SQLite's own connection for data_version, unwrapped):
            # nothing is served from memory; the app answers, with its own error page.
            self.clear()
            return compressing(self.wsgi_app, environ, start_response)
        key = self._key(environ)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and not self._live(entry):
                self._size -= entry.size
                del self._entries[key]
                entry = None
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
        if entry is None:
            self.misses += 1
            entry, passed = self._fill(environ, key)
            if entry is None:  # not for the cache: answered as the app answered
                status, headers, body = passed
                headers, body = encoded(environ, status, headers, body)
                start_response(status, headers)
                return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]
        return self._answer(environ, start_response, entry)

    def _live(self, entry: Entry) -> bool:
        """A signed-in reader's entry lasts while no session was started or ended anywhere
        (sign-out, "sign out everywhere", a password change), and a minute at most: the
        session is checked, and its last use noted, at least that often."""
        if entry.sessions is None:
            return True
        state = self._state
        return (
            state is not None
            and entry.sessions == state.sessions
            and entry.expires is not None
            and time.monotonic() < entry.expires
        )

    def _fill(
        self, environ: dict[str, Any], key: tuple[str, ...]
    ) -> tuple[Entry | None, tuple[str, list[tuple[str, str]], bytes]]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: captured.setdefault("written", []).append(data)

        seen = self.monitor.seen()  # what the page is rendered against
        plain = {**environ, "REQUEST_METHOD": "GET"}
        plain.pop("HTTP_IF_NONE_MATCH", None)
        plain.pop("HTTP_IF_MODIFIED_SINCE", None)
        plain.pop("HTTP_ACCEPT_ENCODING", None)  # the plain body is stored; see compression.py
        result = self.wsgi_app(plain, capture)
        try:
            body = b"".join([*captured.get("written", []), *result])
        finally:
            if hasattr(result, "close"):
                result.close()
        status, headers = captured["status"], captured["headers"]
        entry = self._entry(status, headers, body)
        if entry is None or entry.size > self.max_bytes // 4 or seen[0] is None:
            # (No state seen: the monitor was told to forget it meanwhile, after an error.)
            return None, (status, headers, body)
        if key[0]:  # a browser with a session
            entry.sessions = seen[0].sessions
            entry.expires = time.monotonic() + self.signed_in_seconds
        with self._lock:
            state_now, signal_now = self.monitor.seen()
            if _what_matters(state_now, signal_now, key) != _what_matters(
                *seen, key
            ) or _what_matters(self._state, None, key) != _what_matters(seen[0], None, key):
                # Something changed while the page was rendered: it may show the old
                # state, so it is served this once and not kept.
                return None, (status, headers, body)
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= old.size
            self._entries[key] = entry
            self._size += entry.size
            while self._size > self.max_bytes and self._entries:
                _, evicted = self._entries.popitem(last=False)
                self._size -= evicted.size
        if (
            self.mirror is not None
            and not key[0]  # only what every anonymous reader is sent
            and not plain.get(NOT_MIRRORED)
            and _is_html_page(entry)
        ):
            file = page_file(environ)
            if file is not None:
                self.mirror.store(seen[0], file, entry.bodies)
        return entry, ("", [], b"")

    def _entry(self, status: str, headers: list[tuple[str, str]], body: bytes) -> Entry | None:
        if int(status.split(None, 1)[0]) not in _CACHEABLE_STATUS:
            return None
        names = {name.lower(): value for name, value in headers}
        if "set-cookie" in names or "content-encoding" in names:
            return None
        control = names.get("cache-control", "").lower()
        if "private" in control or "no-store" in control:
            return None
        bodies = {"identity": body}
        if worth_compressing(names.get("content-type", ""), len(body)):
            bodies["gzip"] = compress(body, "gzip")
            bodies["br"] = compress(body, "br")
        kept = [(name, value) for name, value in headers if name.lower() not in _OWN_HEADERS]
        if len(bodies) > 1:
            kept = with_vary(kept, "Accept-Encoding")
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        modified = format_datetime(datetime.now(UTC).replace(microsecond=0), usegmt=True)
        return Entry(status, kept, bodies, etag, modified)

    def _answer(
        self, environ: dict[str, Any], start_response: StartResponse, entry: Entry
    ) -> Iterable[bytes]:
        encoding = negotiate(environ.get("HTTP_ACCEPT_ENCODING", ""), entry.bodies)
        body = entry.bodies[encoding]
        own = [("ETag", _etag(entry, encoding)), ("Last-Modified", entry.last_modified)]
        if entry.status.startswith("200") and _not_modified(environ, entry):
            start_response("304 NOT MODIFIED", [*_validators_only(entry.headers), *own])
            return [b""]
        headers = [*entry.headers, *own, ("Content-Length", str(len(body)))]
        if encoding != "identity":
            headers.append(("Content-Encoding", encoding))
        start_response(entry.status, headers)
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]


def _what_matters(
    state: PublicState | None, signal: tuple[int, int] | None, key: tuple[str, ...]
) -> tuple[Any, ...]:
    """Of a public state and the shared memory's counters, what a page for this key depends
    on: an anonymous page does not change when someone signs in or out; a signed-in
    reader's page does."""
    if key[0]:
        return state, signal
    return (state.pages if state is not None else None, signal[0] if signal else None)


def _is_html_page(entry: Entry) -> bool:
    """A 200 HTML page: what the mirror keeps (its files are served as text/html)."""
    content_type = next((v for n, v in entry.headers if n.lower() == "content-type"), "")
    return entry.status.startswith("200") and content_type.startswith("text/html")


def _etag(entry: Entry, encoding: str) -> str:
    """A strong ETag for each form of the body (RFC 9110 8.8.3: the gzip and brotli forms
    are different representations): "<hash>", "<hash>-gzip", "<hash>-br"."""
    return entry.etag if encoding == "identity" else f'{entry.etag[:-1]}-{encoding}"'


def _not_modified(environ: dict[str, Any], entry: Entry) -> bool:
    match = environ.get("HTTP_IF_NONE_MATCH")
    if match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in match.split(",")}
        # Any form the client holds is as current as the others: they share one body.
        return "*" in tags or any(_etag(entry, form) in tags for form in entry.bodies)
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        try:
            return parsedate_to_datetime(since) >= parsedate_to_datetime(entry.last_modified)
        except (TypeError, ValueError):
            return False
    return False


def _validators_only(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    keep = {"cache-control", "vary", "expires", "content-location"}
    return [(name, value) for name, value in headers if name.lower() in keep]
