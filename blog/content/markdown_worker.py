"""Markdown rendered in a worker process with a time budget.

Python-Markdown has quadratic corners that no pattern fix reaches everywhere (thousands
of `[^`, `<a `, abbreviations, headings or nested list levels each take minutes), and a
thread cannot be stopped from outside. So author Markdown is rendered in a separate
process that is killed when it runs past its budget: a save or preview then gets a clear
refusal instead of tying up a server thread, and the next render starts a fresh worker.
Workers are kept and reused, so a render costs a few milliseconds more than in-process.

The worker is `python -m blog.content.markdown_worker`, speaking length-prefixed JSON on
its standard input and output.
"""

from __future__ import annotations

import json
import os
import select
import struct
import subprocess
import sys
import threading
import time
from typing import Any, BinaryIO

# A normal post renders in well under a second; 1,000,000 characters take about 5 s.
BASE_SECONDS = 2.0
SECONDS_PER_CHARACTER = 20e-6
MAX_IDLE_WORKERS = 4
# Starting a worker (Python, Markdown, nh3) is not part of a render's budget.
START_SECONDS = 60.0
# A worker that renders into gigabytes is stopped by the system, not by our patience.
WORKER_MEMORY_BYTES = 2 * 1024**3
# Only what Python needs to start: never the blog's secrets or database address.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SYSTEMROOT")
_HEADER = struct.Struct(">I")

_lock = threading.Lock()
_idle: list[_Worker] = []


class RenderFailed(Exception):
    """The text could not be rendered by a worker (it stopped, or could not start)."""


class RenderTooSlow(RenderFailed):
    """The text took longer to render than its budget; nothing was rendered."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"rendering took longer than {seconds:.0f} s")
        self.seconds = seconds


def budget_for(source: str) -> float:
    return BASE_SECONDS + SECONDS_PER_CHARACTER * len(source)


def _write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    data = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    while size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("the worker closed its output")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read_message(fd: int, deadline: float | None) -> dict[str, Any]:
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    data = _read_exactly(fd, size, deadline)
    return json.loads(data.decode("utf-8", "surrogatepass"))  # type: ignore[no-any-return]


class _Worker:
    def __init__(self) -> None:
        environment = {name: os.environ[name] for name in _INHERITED if name in os.environ}
        # The child finds the blog package where this process found it (a checkout, a
        # virtualenv or a zipapp alike).
        environment["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "blog.content.markdown_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
        )
        assert self.process.stdout is not None
        try:
            _read_message(self.process.stdout.fileno(), time.monotonic() + START_SECONDS)
        except (TimeoutError, EOFError, OSError):
            self.stop()
            raise RenderFailed("the Markdown worker did not start") from None

    def render(
        self, source: str, source_format: str, seconds: float, editable: bool = False
    ) -> dict[str, Any]:
        """The worker's answer: {"html": ...} or {"error": ...}; RenderTooSlow past `seconds`."""
        assert self.process.stdin is not None and self.process.stdout is not None
        request = {"source": source, "format": source_format, "editable": editable}
        _write_message(self.process.stdin, request)
        try:
            return _read_message(self.process.stdout.fileno(), time.monotonic() + seconds)
        except TimeoutError:
            raise RenderTooSlow(seconds) from None

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def _take_worker() -> _Worker:
    with _lock:
        while _idle:
            worker = _idle.pop()
            if worker.alive():
                return worker
            worker.stop()  # died while idle (killed, out of memory): reap it
    return _Worker()


def _give_back(worker: _Worker) -> None:
    with _lock:
        if len(_idle) < MAX_IDLE_WORKERS:
            _idle.append(worker)
            return
    worker.stop()


def render_in_worker(
    source: str, source_format: str, seconds: float | None = None, editable: bool = False
) -> str:
    """render_body(source, source_format) in a worker (editable_html if `editable`).

    RenderTooSlow past the budget; RenderFailed when no worker can do it; ValueError for
    what render_body itself refuses (an unknown format).
    """
    seconds = budget_for(source) if seconds is None else seconds
    for attempt in (1, 2):
        worker = _take_worker()
        try:
            answer = worker.render(source, source_format, seconds, editable)
        except RenderTooSlow:
            worker.stop()
            raise
        except (EOFError, OSError):
            worker.stop()  # a reused worker that had died: one fresh try
            if attempt == 2:
                raise RenderFailed("the Markdown worker stopped") from None
            continue
        _give_back(worker)
        if "error" in answer:
            raise ValueError(answer["error"])
        return str(answer["html"])
    raise AssertionError("unreachable")


def _serve() -> None:
    """The worker: render each request from stdin, answer on stdout, until stdin closes."""
    import resource

    from .markup import editable_html, render_body

    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    _write_message(stdout, {"ready": True})
    while True:
        try:
            request = _read_message(stdin.fileno(), None)
        except EOFError:
            return
        try:
            render = editable_html if request.get("editable") else render_body
            _write_message(stdout, {"html": render(request["source"], request["format"])})
        except Exception as error:  # noqa: BLE001 - the parent raises it
            _write_message(stdout, {"error": f"{type(error).__name__}: {error}"})


if __name__ == "__main__":
    _serve()
