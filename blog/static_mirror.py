"""The static mirror: public pages as files that nginx or Caddy serve without asking the app.

With BLOG_STATIC_MIRROR=DIR, every page the page cache keeps for a plain anonymous GET (200,
text/html, not an htmx fragment; no query string, or a list's place as its own links give
it) is also written under DIR with its gzip and brotli forms, `<path>.html`, `.html.gz` and
`.html.br` (`<path>@<query>.html` for a list's place), each to a temporary file beside it
and renamed over, so a reader never sees half a page. deploy/ has the web servers' side.

Never stale. Pages live in generation directories, one per database state they were
rendered against: DIR/g<counter>-<due>-<nonce>/, where <counter> is the public change
counter and <due> when the next scheduled post falls due. DIR/current is a symlink to the
live generation; the web server's root is DIR/current, resolved at every request.

- The process that commits a public change moves `current` to a new, empty generation before
  the change is acknowledged (`after_public_commit`), so no old page is served after it.
- Moving `current` happens under a lock file and reads the database's state inside it: of two
  processes moving it at once, the later reads the later state, and it always names a state
  that includes every commit made before it.
- A page is written only while the generation `current` names is of the state the page was
  rendered against; a page rendered before a change and written after it lands in a retired
  generation nobody serves.
- A scheduled post falls due without any write: a thread in each serving process
  (`keep_current`) moves `current` on at that time, and checks the database every second for
  changes made by processes that have no mirror configured.
- Retired generations are removed a minute after they stopped being current.
"""

from __future__ import annotations

import fcntl
import gzip
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import brotli
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from .changes import PublicState
from .clock import epoch_microseconds, from_epoch_microseconds
from .database import after_public_commit

if TYPE_CHECKING:
    from .changes import ChangeMonitor

log = logging.getLogger(__name__)

# (public change counter, when the next scheduled post falls due): what a page shows.
State = PublicState

CURRENT = "current"
# Set in the WSGI environ by a view whose answer must not be written as a file.
NOT_MIRRORED = "blog.not_mirrored"
LOCK = ".lock"
# Seconds between looks at the database by the watching thread; a retired generation
# lives this long, for requests that resolved `current` just before it moved.
CHECK_INTERVAL = 1.0
RETIRED_GENERATION_SECONDS = 60.0
# Longer paths or names are not mirrored (file systems allow 255 bytes per name: a name,
# a list's place and `.html.br` stay below that).
MAX_PATH_BYTES = 1024
MAX_NAME_BYTES = 200
_HTMX_HEADERS = ("HTTP_HX_REQUEST", "HTTP_HX_BOOSTED", "HTTP_HX_HISTORY_RESTORE_REQUEST")
# A list's place, exactly as the list's own links and old links write it: one `page=N`,
# `before=N-N` or `after=N-N`, digits only, no longer than blog/paging.py (MAX_PAGE) and
# ListCursor.parse accept. deploy/nginx/blog.conf and deploy/Caddyfile match the same text.
LIST_PLACE = re.compile(r"page=[0-9]{1,7}|(?:before|after)=[0-9]{1,17}-[0-9]{1,18}")
# The lists: the home page, a category, a tag.
LIST_PATH = re.compile(r"/(?:(?:category|tag)/[^/]+)?")
# Between a list's path and its place in the file name. No path with it is mirrored, so
# a file name with it is always a list's place and one without it never is.
PLACE_MARK = "@"


def page_file(environ: dict[str, Any]) -> str | None:
    """The file, relative to a generation, that holds the answer to this request, or None when
    it is not mirrored: anything but a plain GET/HEAD of a path without a query string, or of
    a list with its place (LIST_PLACE) as the only query string.

    A path maps to itself plus `.html` (`/` to `.html`, `/posts/a` to `posts/a.html`): a
    constant suffix keeps distinct paths in distinct files, and the web server finds the file
    as `$uri.html`. The path is the decoded one (UTF-8), as nginx decodes it before looking.
    A list's place goes between them after PLACE_MARK (`/tag/a?page=2` to `tag/a@page=2.html`,
    `$uri@$args.html`); paths with that mark are not mirrored, so no two pages share a file.
    """
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return None
    if any(environ.get(header) for header in _HTMX_HEADERS):
        return None
    try:  # WSGI carries the decoded path's bytes as latin-1
        path = str(environ.get("PATH_INFO", "")).encode("latin-1").decode("utf-8")
    except UnicodeError:
        return None
    if not path.startswith("/") or len(path.encode()) > MAX_PATH_BYTES or PLACE_MARK in path:
        return None
    # Raw, as sent: `page=%35` is not a list's place here, nor in the web servers' match.
    query = str(environ.get("QUERY_STRING", ""))
    if query and not (LIST_PLACE.fullmatch(query) and LIST_PATH.fullmatch(path)):
        return None
    names = path[1:].split("/")
    for index, name in enumerate(names):
        last = index == len(names) - 1
        if name in (".", "..") or (name == "" and not last):
            return None  # nginx would normalise these paths to another file
        if len(name.encode()) > MAX_NAME_BYTES:
            return None
        if any(ord(char) < 0x20 or char in "\x7f\\" for char in name):
            return None
    return path[1:] + (PLACE_MARK + query if query else "") + ".html"


def generation_state(name: str) -> State | None:
    """The state a generation directory's name says its pages were rendered against."""
    parts = name.split("-")
    if len(parts) != 3 or not parts[0].startswith("g"):
        return None
    try:
        counter, due = int(parts[0][1:]), int(parts[1])
    except ValueError:
        return None
    try:
        return PublicState(counter, from_epoch_microseconds(due))
    except OverflowError:
        return None


def _order(state: State) -> tuple[int, int]:
    return state.counter, epoch_microseconds(state.next_due)


def same_state(one: State | None, other: State | None) -> bool:
    return one is not None and other is not None and _order(one) == _order(other)


def _make_directory(path: Path) -> None:
    path.mkdir()
    os.chmod(path, 0o755)  # whatever the umask: the web server runs as another user


def _atomic_write(directory: Path, name: str, data: bytes) -> None:
    """Write `directory/name` so that a reader sees the old file or the whole new one."""
    descriptor, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)  # the web server runs as another user
        os.replace(temporary, directory / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class StaticMirror:
    """The mirror directory of one app. `state()` asks the database (see ChangeWatcher)."""

    def __init__(self, root: Path, state: Callable[[], State], now: Callable[[], datetime]) -> None:
        self.root = root
        self._state, self._now = state, now
        root.mkdir(parents=True, exist_ok=True)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # Which generation is live ---------------------------------------------------------

    def current(self) -> tuple[str, State | None] | None:
        """(directory name, its state) of the live generation; None when there is none."""
        try:
            name = os.readlink(self.root / CURRENT)
        except OSError:
            return None
        return name, generation_state(name)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        descriptor = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # releases the lock

    def advance(self) -> State:
        """Make `current` a generation of the database's state now, unless it already is.

        The state is read inside the lock: every commit made before this call is in it, and
        of two processes doing this at once the later one reads the later state.
        """
        with self._locked():
            state = self._state()
            live = self.current()
            if live is not None and same_state(live[1], state):
                return state
            name = f"g{state.counter}-{epoch_microseconds(state.next_due)}-{secrets.token_hex(4)}"
            _make_directory(self.root / name)
            link = self.root / f".{CURRENT}.{os.getpid()}.{threading.get_ident()}"
            link.unlink(missing_ok=True)
            os.symlink(name, link)
            os.replace(link, self.root / CURRENT)
            if live is not None:
                # Its mtime now says when it retired: removed RETIRED_GENERATION_SECONDS later.
                with suppress(FileNotFoundError):
                    os.utime(self.root / live[0], follow_symlinks=False)
        return state

    def after_commit(self, _counter: int) -> None:
        """Called in the committing process right after a public change, before the response.

        If the mirror cannot follow (the database or the disk fails), `current` is removed:
        the web server then passes every request to the app, which is never stale.
        """
        try:
            self.advance()
        except (OSError, SQLAlchemyError):
            log.exception("static mirror: cannot move %s; readers go to the app", CURRENT)
            (self.root / CURRENT).unlink(missing_ok=True)  # raises if even that fails

    # Pages ------------------------------------------------------------------------------

    def store(self, state: State, file: str, bodies: dict[str, bytes]) -> bool:
        """Write a page rendered against `state`, if that is the live generation's state.

        `bodies` has "identity" and, when the page cache made them, "gzip" and "br". Returns
        whether the page is now in the live generation.
        """
        live = self.current()
        if live is None or not same_state(live[1], state):
            if live is not None and live[1] is not None and _order(live[1]) > _order(state):
                return False  # rendered against an older state than the live one
            try:
                self.advance()  # the commit's own process may not have moved it yet
            except (OSError, SQLAlchemyError):
                return False
            live = self.current()
            if live is None or not same_state(live[1], state):
                return False
        generation = self.root / live[0]
        *folders, name = file.split("/")
        directory = generation
        try:
            for folder in folders:
                directory = directory / folder
                # One level at a time, never creating the generation itself: if it was
                # removed meanwhile, nothing is written.
                with suppress(FileExistsError):
                    _make_directory(directory)
            if (directory / name).exists():
                return True  # another thread or process wrote it first
            identity = bodies["identity"]
            compressed = {
                "gz": bodies.get("gzip") or gzip.compress(identity, compresslevel=6, mtime=0),
                "br": bodies.get("br") or brotli.compress(identity, quality=5),
            }
            # The compressed forms first: once the page itself is there, so are they.
            for suffix, data in compressed.items():
                _atomic_write(directory, f"{name}.{suffix}", data)
            _atomic_write(directory, name, identity)
        except OSError as error:
            # A path that clashes with another's folder, a full disk: the app answers it.
            log.warning("static mirror: cannot write %s: %s", file, error)
            return False
        return True

    # Keeping current without requests ---------------------------------------------------

    def check(self) -> None:
        """One look: follow the database (a scheduled post fell due, a change by a process
        without the mirror), then remove generations retired long enough ago."""
        state = self._state()
        live = self.current()
        if live is None or not same_state(live[1], state):
            self.advance()
        self.remove_retired()

    def remove_retired(self) -> None:
        live = self.current()
        now = time.time()
        for entry in os.scandir(self.root):
            if not entry.name.startswith("g") or (live is not None and entry.name == live[0]):
                continue
            try:
                retired = entry.stat(follow_symlinks=False).st_mtime
            except OSError:
                continue
            if entry.is_dir(follow_symlinks=False) and now - retired > RETIRED_GENERATION_SECONDS:
                shutil.rmtree(entry.path, ignore_errors=True)

    def seconds_to_next_check(self) -> float:
        live = self.current()
        if live is None or live[1] is None:
            return CHECK_INTERVAL
        until_due = (live[1].next_due - self._now()).total_seconds()
        return max(0.0, min(CHECK_INTERVAL, until_due))

    def start(self) -> None:
        """Start the watching thread (once per process)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="static-mirror", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except (OSError, SQLAlchemyError):
                log.exception("static mirror: cannot follow the database; trying again")
            self._stop.wait(self.seconds_to_next_check())


def mirror_for(app: Flask, monitor: ChangeMonitor) -> StaticMirror | None:
    """The app's mirror when BLOG_STATIC_MIRROR is set, following every public commit this
    process makes; None otherwise."""
    directory = app.config.get("BLOG_STATIC_MIRROR")
    if not directory:
        return None
    if not app.config.get("BLOG_BASE_URL"):
        # One file serves every Host: the pages must not be built from the Host header.
        raise RuntimeError("BLOG_STATIC_MIRROR needs BLOG_BASE_URL (where readers reach the blog)")
    # The database itself, never the shared memory's shortcut: `advance` must see every
    # commit made before it, by any process, signalling or not.
    watcher = monitor.watcher
    mirror = StaticMirror(Path(directory), lambda: watcher.state(monitor.now()), monitor.now)
    with app.app_context():
        from .extensions import db

        after_public_commit(db.engine, mirror.after_commit)
    app.extensions["static_mirror"] = mirror
    return mirror


def keep_current(app: Flask) -> StaticMirror | None:
    """Start the app's mirror thread, if it has a mirror (`blog serve`, wsgi.py)."""
    mirror: StaticMirror | None = app.extensions.get("static_mirror")
    if mirror is not None:
        mirror.start()
    return mirror
