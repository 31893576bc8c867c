"""Markdown rendered in a worker process with a time budget.

Python-Markdown has quadratic corners that no pattern fix reaches everywhere (thousands
of `[^`, `<a `, abbreviations, headings or nested list levels each take minutes), and a
thread cannot be stopped from outside. So author Markdown is rendered in a separate
process that is killed when it runs past its budget: a save or preview then gets a clear
refusal instead of tying up a server thread, and the next render starts a fresh worker.
Workers are kept and reused, so a render costs about a millisecond more than in-process.

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
_HEADER = struct.Struct(">I")

_lock = threading.Lock()
_idle: list[_Worker] = []


class RenderTooSlow(Exception):
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
    return json.loads(_read_exactly(fd, size, deadline).decode("utf-8", "surrogatepass"))  # type: ignore[no-any-return]


class _Worker:
    def __init__(self) -> None:
        # The child finds the blog package where this process found it (a checkout, a
        # virtualenv or a zipapp alike).
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "blog.content.markdown_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
        )
        assert self.process.stdout is not None
        try:
            _read_message(self.process.stdout.fileno(), time.monotonic() + START_SECONDS)
        except (TimeoutError, EOFError):
            self.stop()
            raise RuntimeError("the Markdown worker did not start") from None

    def render(self, source: str, source_format: str, seconds: float) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        _write_message(self.process.stdin, {"source": source, "format": source_format})
        try:
            answer = _read_message(self.process.stdout.fileno(), time.monotonic() + seconds)
        except TimeoutError:
            self.stop()
            raise RenderTooSlow(seconds) from None
        if "error" in answer:
            raise ValueError(answer["error"])
        return str(answer["html"])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def render_in_worker(source: str, source_format: str, seconds: float | None = None) -> str:
    """render_body(source, source_format) in a worker; RenderTooSlow past the budget."""
    seconds = budget_for(source) if seconds is None else seconds
    with _lock:
        worker = _idle.pop() if _idle else None
    if worker is None or not worker.alive():
        worker = _Worker()
    try:
        html = worker.render(source, source_format, seconds)
    except (EOFError, OSError):
        worker.stop()
        raise
    with _lock:
        if len(_idle) < MAX_IDLE_WORKERS:
            _idle.append(worker)
            return html
    worker.stop()
    return html


def _serve() -> None:
    """The worker: render each request from stdin, answer on stdout, until stdin closes."""
    from .markup import render_body

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    _write_message(stdout, {"ready": True})
    while True:
        try:
            request = _read_message(stdin.fileno(), None)
        except EOFError:
            return
        try:
            _write_message(stdout, {"html": render_body(request["source"], request["format"])})
        except Exception as error:  # noqa: BLE001 - the parent raises it
            _write_message(stdout, {"error": f"{type(error).__name__}: {error}"})


if __name__ == "__main__":
    _serve()
