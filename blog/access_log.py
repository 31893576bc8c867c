"""One JSON line per request served by `blog serve`, on standard error (logger "blog.access").

    {"time": "2026-12-02T09:00:00.123Z", "method": "GET", "path": "/posts/x",
     "status": 200, "ms": 0.41, "bytes": 5120}       (on one line)

The path is logged without its query string (a search for a name) and without a reset
link's token, and no header is logged at all: no cookie, no referrer, no address (a proxy's log has
those). It is the outermost WSGI layer, so page-cache hits are logged too.

A cached page is answered in some tens of microseconds; formatting and writing a line on
the request's own thread would cost a good part of that. The request thread only appends
a tuple to a deque (atomic in CPython); a writer thread turns them into lines a few times a
second, and when the server stops.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

logger = logging.getLogger("blog.access")

# One request as the request thread notes it: (perf_counter when it began and ended,
# method, path, status line, bytes); the writer does the rest.
Noted = tuple[float, float, str, str, str, int]
MAX_PATH_CHARS = 2000
MAX_WAITING_LINES = 100_000
# Paths that carry a secret: a password reset link's token works until it is used.
SECRET_PATHS = ("/reset/",)


def access_line(noted: Noted, clock_offset: float) -> str:
    """The JSON line for one noted request. Written out by hand, and the time formatted
    once a second: json.dumps and strftime would cost more than the rest of the line.
    `clock_offset` turns the request thread's perf_counter into wall-clock time."""
    started, ended, method, path, status, size = noted
    # WSGI hands the path over as Latin-1 text of the request's bytes: a Korean path's
    # UTF-8 is decoded here, off the request's thread. A hostile 10,000-character path
    # is cut short; JSON escapes any control character and quote.
    path = path.encode("latin-1", "replace").decode("utf-8", "replace")[:MAX_PATH_CHARS]
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            path = prefix + "[token]"
    moment = started + clock_offset
    second = int(moment)
    return (
        f'{{"time": "{_second_text(second)}.{int((moment - second) * 1000):03d}Z", '
        f'"method": {_string(method)}, "path": {_string(path)}, "status": {status[:3]}, '
        f'"ms": {(ended - started) * 1000:.2f}, "bytes": {size}}}'
    )


@lru_cache(maxsize=4)
def _second_text(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def _string(value: str) -> str:
    """A JSON string: most paths need no escaping, and json.dumps is slow for them."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


class AccessLog:
    """WSGI middleware: wrap the outermost app with it; start() the writer, stop() to flush."""

    def __init__(self, wsgi_app: WSGIApp, interval: float = 0.25) -> None:
        self.wsgi_app = wsgi_app
        self.interval = interval
        # Bounded: should standard error block (a full pipe nobody reads), the oldest
        # lines are lost, not the server's memory.
        self._noted: deque[Noted] = deque(maxlen=MAX_WAITING_LINES)
        self._stopping = threading.Event()
        self._writer: threading.Thread | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        answer: list[str] = []

        def noting_start_response(status: str, headers: Any, *args: Any) -> Any:
            answer.append(status)
            return start_response(status, headers, *args)

        body = self.wsgi_app(environ, noting_start_response)
        if type(body) is list:  # the page cache's answers: done once returned
            # Inlined _note: this is every cached page's path, where each call counts.
            self._noted.append(
                (started, time.perf_counter(), environ.get("REQUEST_METHOD", ""),
                 environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
                 answer[-1] if answer else "500",
                 len(body[0]) if len(body) == 1 else sum(map(len, body)))
            )  # fmt: skip
            return body
        return self._counted(body, environ, answer, started)

    def _counted(
        self, body: Iterable[bytes], environ: dict[str, Any], answer: list[str], started: float
    ) -> Iterator[bytes]:
        """The body, passed on chunk by chunk; noted once it is all sent (or abandoned)."""
        size = 0
        try:
            for chunk in body:
                size += len(chunk)
                yield chunk
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
            self._note(environ, answer, started, size)

    def _note(self, environ: dict[str, Any], answer: list[str], started: float, size: int) -> None:
        # PATH_INFO never holds the query string; SCRIPT_NAME is a proxy's mount point.
        self._noted.append(
            (started, time.perf_counter(), environ.get("REQUEST_METHOD", ""),
             environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
             answer[-1] if answer else "500", size)
        )  # fmt: skip

    # The writer -------------------------------------------------------------------------

    def start(self) -> None:
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_until_stopped, daemon=True)
            self._writer.start()

    def stop(self) -> None:
        """Write what is noted and end the writer."""
        self._stopping.set()
        if self._writer is not None:
            self._writer.join(timeout=5)
            self._writer = None
        self.flush()

    def flush(self) -> None:
        """Write the lines noted so far: one log record for all of them, as logging's own
        cost per record (a few microseconds) would be more than the line's."""
        lines = []
        clock_offset = time.time() - time.perf_counter()
        while self._noted:
            lines.append(access_line(self._noted.popleft(), clock_offset))
        if lines:
            logger.info("\n".join(lines))

    def _write_until_stopped(self) -> None:
        while not self._stopping.wait(self.interval):
            self.flush()


def configure_logger() -> None:
    """Lines go to standard error as they are, one JSON object each."""
    if logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
