"""A whole-response cache for anonymous readers, in front of the Flask app (WSGI).

A hit is answered from memory: no ORM, no session, no template. Entries are keyed by
method, host, path, query string and HX-Request, and hold the body with its gzip and
brotli forms (compressed once, when stored), an ETag and Last-Modified, so revalidations
get 304. Requests with a cookie of ours, anything but GET/HEAD, /admin and responses that
set a cookie or say private/no-store pass straight through, compressed per response
(`compression.py`); the app never compresses, so what is stored is always the plain body.

Never stale: every write to a public table bumps a change counter in the same transaction
(`database.writing()`); the cache compares it before each hit, so a change through any
process on the database is seen at the very next request. The comparison is cheap on
SQLite: PRAGMA data_version tells, without reading a page, whether anyone committed since
the last look, and only then is the counter read. A scheduled post's time is a change too:
the cache holds until the next scheduled publication, never past it.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from .compression import compress, compressing, encoded, negotiate, with_vary, worth_compressing
from .database import PUBLIC_COUNTER, after_public_commit, read_change_counter
from .models import Post, PostStatus

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_CACHEABLE_STATUS = {200, 301, 308, 404, 410}
# Headers the cache sets itself on every answer.
_OWN_HEADERS = {"content-length", "content-encoding", "etag", "last-modified", "date"}
_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass
class Entry:
    status: str
    headers: list[tuple[str, str]]
    bodies: dict[str, bytes]  # "identity", "gzip", "br"
    etag: str
    last_modified: str
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = sum(len(body) for body in self.bodies.values()) + 512


class ChangeWatcher:
    """Whether anything public changed since the last look, asked once per request.

    One small connection per thread, kept open: on SQLite, PRAGMA data_version changes only
    when another connection committed, so most requests do not read the counter at all.
    """

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._local = threading.local()

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            with self._app.app_context():
                from .extensions import db

                connection = db.engine.connect()
            self._local.connection = connection
        return connection

    def state(self, now: datetime) -> tuple[int, datetime]:
        """(change counter, when the next scheduled post is due) as the database says now."""
        connection = self._connection()
        sqlite = connection.dialect.name == "sqlite"
        data_version = None
        if sqlite:
            raw = connection.connection.dbapi_connection
            data_version = raw.execute("PRAGMA data_version").fetchone()[0]
            known = getattr(self._local, "known", None)
            if known is not None and known[0] == data_version and now < known[1][1]:
                return known[1]
        try:
            counter = read_change_counter(connection, PUBLIC_COUNTER)
            due = connection.execute(
                select(func.min(Post.published_at)).where(
                    Post.status == PostStatus.SCHEDULED.value,
                    Post.deleted_at.is_(None),
                    Post.published_at > now,
                )
            ).scalar()
        finally:
            connection.rollback()
        state = (counter, due if due is not None else _NEVER)
        self._local.known = (data_version, state)
        return state


class ChangeSignal:
    """The change counter's latest value in 8 bytes of shared memory beside the database
    file, written by every process right after it commits a public change.

    Reading it is a memory read: no system call, no SQLite call, so the interpreter lock is
    never given up on the way (on two cores, each such release cost a hit up to 10 ms). Each
    commit writes its own counter value, so a change always shows as a different number.
    """

    def __init__(self, path: str) -> None:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(descriptor).st_size < 8:
                os.ftruncate(descriptor, 8)
            self._memory = mmap.mmap(descriptor, 8)
        finally:
            os.close(descriptor)

    def read(self) -> int:
        return int(struct.unpack_from("<Q", self._memory)[0])

    def write(self, value: int) -> None:
        struct.pack_into("<Q", self._memory, 0, value)

    @classmethod
    def beside(cls, app: Flask) -> ChangeSignal | None:
        """The signal of the app's SQLite database file; None for other databases (they are
        asked directly, see ChangeWatcher) or one in memory."""
        with app.app_context():
            from .extensions import db

            url = db.engine.url
            if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
                return None
            signal = cls(f"{url.database}-changes")
            after_public_commit(db.engine, signal.write)
            return signal


class PageCache:
    """WSGI middleware: wrap `app.wsgi_app` with it."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp, max_bytes: int) -> None:
        self.app, self.wsgi_app, self.max_bytes = app, wsgi_app, max_bytes
        self.watcher = ChangeWatcher(app)
        self.signal = ChangeSignal.beside(app) if max_bytes > 0 else None
        self._signal_seen: int | None = None
        self._checked_at = 0.0
        self._entries: OrderedDict[tuple[str, ...], Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._size = 0
        self._state: tuple[int, datetime] | None = None
        self.hits = self.misses = 0
        self._cookie = str(app.config.get("SESSION_COOKIE_NAME", "session"))

    # What passes through ---------------------------------------------------------------

    def _bypass(self, environ: dict[str, Any]) -> bool:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return True
        path = environ.get("PATH_INFO", "")
        if path.startswith(("/admin", "/login", "/account", "/reset")):
            return True
        if path.startswith("/static/"):
            return False  # the same bytes for everyone: kept for signed-in readers too
        cookies = environ.get("HTTP_COOKIE", "")
        return f"{self._cookie}=" in cookies or "remember_token=" in cookies

    def _key(self, environ: dict[str, Any]) -> tuple[str, ...]:
        return (
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

    def _now(self) -> datetime:
        clock = self.app.config.get("CLOCK")
        return clock() if clock is not None else datetime.now(UTC)

    def _fresh_state(self) -> None:
        """Drop every entry if the database changed or a scheduled post fell due."""
        now = self._now()
        signal = self.signal.read() if self.signal is not None else None
        if (
            signal is not None
            and signal == self._signal_seen
            and self._state is not None
            and now < self._state[1]
            # The database itself is asked now and then too: a change written by a tool
            # that does not signal (an older version, a hand edit) shows within a second.
            and time.monotonic() - self._checked_at < 1.0
        ):
            return
        state = self.watcher.state(now)
        self._signal_seen, self._checked_at = signal, time.monotonic()
        with self._lock:
            if self._state is not None and (state[0] != self._state[0] or now >= self._state[1]):
                self._entries.clear()
                self._size = 0
            self._state = state

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0
            self._state = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.max_bytes <= 0 or self._bypass(environ):
            return compressing(self.wsgi_app, environ, start_response)
        try:
            self._fresh_state()
        except SQLAlchemyError:
            # The database cannot say whether pages are fresh (locked, not yet upgraded):
            # nothing is served from memory; the app answers, with its own error page.
            self.clear()
            return compressing(self.wsgi_app, environ, start_response)
        key = self._key(environ)
        with self._lock:
            entry = self._entries.get(key)
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

    def _fill(
        self, environ: dict[str, Any], key: tuple[str, ...]
    ) -> tuple[Entry | None, tuple[str, list[tuple[str, str]], bytes]]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: captured.setdefault("written", []).append(data)

        seen = (self._state, self._signal_seen)  # what the page is rendered against
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
        if entry is None or entry.size > self.max_bytes // 4:
            return None, (status, headers, body)
        with self._lock:
            now_seen = (self._state, self.signal.read() if self.signal is not None else None)
            if now_seen != seen:
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
        own = [("ETag", entry.etag), ("Last-Modified", entry.last_modified)]
        if entry.status.startswith("200") and _not_modified(environ, entry):
            start_response("304 NOT MODIFIED", [*_validators_only(entry.headers), *own])
            return [b""]
        encoding = negotiate(environ.get("HTTP_ACCEPT_ENCODING", ""), entry.bodies)
        body = entry.bodies[encoding]
        headers = [*entry.headers, *own, ("Content-Length", str(len(body)))]
        if encoding != "identity":
            headers.append(("Content-Encoding", encoding))
        start_response(entry.status, headers)
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]


def _not_modified(environ: dict[str, Any], entry: Entry) -> bool:
    match = environ.get("HTTP_IF_NONE_MATCH")
    if match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in match.split(",")}
        return entry.etag in tags or "*" in tags
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
