"""What has changed on the public site, as cheaply as it can be told.

Every write to a public table bumps a change counter in the same transaction
(`database.writing()`). Whatever keeps something derived from public data in memory (the
page cache, the site settings) compares the counter with the one it was built against.
The comparison must cost next to nothing, since it happens on every request:

- On SQLite, the committing process also puts the counter's new value into shared memory
  beside the database file (`ChangeSignal`; 8 bytes a counter). Reading it is a memory read:
  no system call and no SQLite call, so the interpreter lock is never given up on the way
  (on two cores, each such release cost a request up to 10 ms under waitress).
- The database itself is asked (`ChangeWatcher`) only when those bytes moved, when the
  next scheduled post falls due, or once a second in any case (a tool that does not
  signal, such as an older version or a hand edit, shows within a second). Databases
  without the shared memory (PostgreSQL, in memory) are asked on every look; the
  PostgreSQL issue will give them their own signal (LISTEN/NOTIFY) behind this class.
"""

from __future__ import annotations

import mmap
import os
import sqlite3
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Flask, current_app
from sqlalchemy import bindparam, create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from .database import (
    PUBLIC_COUNTER,
    SESSIONS_COUNTER,
    after_counted_commit,
    in_write_transaction,
    read_change_counter,
)
from .models import ChangeCounter, Post, PostStatus, UTCDateTime

NEVER = datetime.max.replace(tzinfo=UTC)
# How long a look at the shared memory alone is trusted before the database is asked.
TRUST_SIGNAL_SECONDS = 1.0


@dataclass(frozen=True)
class PublicState:
    """The public site as of one look: equal states show equal pages."""

    counter: int  # the public change counter
    next_due: datetime  # when the next scheduled post goes out (NEVER if none)
    # The sign-in sessions counter: a signed-in reader's page also depends on their
    # session being live (see page_cache.py).
    sessions: int = 0

    @property
    def pages(self) -> tuple[int, datetime]:
        """What anonymous pages depend on."""
        return self.counter, self.next_due


def _counter(name: str) -> Any:
    return select(ChangeCounter.value).where(ChangeCounter.name == name).scalar_subquery()


# The public state in one statement: a round trip to a database server costs more than
# the three small reads in it.
_STATE = select(
    _counter(PUBLIC_COUNTER),
    _counter(SESSIONS_COUNTER),
    select(func.min(Post.published_at))
    .where(
        Post.status == PostStatus.SCHEDULED.value,
        Post.deleted_at.is_(None),
        Post.published_at > bindparam("now", type_=UTCDateTime()),
    )
    .scalar_subquery(),
)


class ChangeWatcher:
    """Asks the database for the public state. On SQLite, over one small connection per
    thread, kept open and outside the app's pool (so it never takes a connection a request
    needs): PRAGMA data_version changes only when another connection committed, so most
    looks do not read the counter at all. On PostgreSQL, over one connection per thread too,
    outside the pool, with one statement per look."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._local = threading.local()
        self._own_engine: Engine | None = None

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            with self._app.app_context():
                from .extensions import db

                engine = db.engine
            url = engine.url
            # A database in memory exists only on the app's own connections.
            if url.get_backend_name() != "sqlite" or url.database not in (None, "", ":memory:"):
                if self._own_engine is None:
                    self._own_engine = create_engine(url, poolclass=NullPool)
                engine = self._own_engine
            connection = engine.connect()
            self._local.connection = connection
        return connection

    def state(self, now: datetime) -> PublicState:
        try:
            return self._look(now)
        except (SQLAlchemyError, sqlite3.Error):
            # The connection may be what failed (a database server restarted): the next
            # look opens a new one.
            try:
                self.close()
            except (SQLAlchemyError, sqlite3.Error):
                self._local.connection = self._local.known = None
            raise

    def _look(self, now: datetime) -> PublicState:
        connection = self._connection()
        data_version = None
        if connection.dialect.name == "sqlite":
            raw = connection.connection.dbapi_connection
            data_version = raw.execute("PRAGMA data_version").fetchone()[0]
            known = getattr(self._local, "known", None)
            if known is not None and known[0] == data_version and now < known[1].next_due:
                return known[1]
        try:
            counter, sessions, due = connection.execute(_STATE, {"now": now}).one()
        finally:
            connection.rollback()
        state = PublicState(counter or 0, due if due is not None else NEVER, sessions or 0)
        self._local.known = (data_version, state)
        return state

    def close(self) -> None:
        """Close this thread's connection (`blog restore` replaces the file under it)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
        self._local.connection = self._local.known = None


class ChangeSignal:
    """The change counters' latest values in shared memory beside the database file
    (8 bytes each: public, then sessions), written by every process right after it commits
    a counted change. Each commit writes its own counter value, so a change always shows
    as a different number."""

    SLOTS = (PUBLIC_COUNTER, SESSIONS_COUNTER)
    SIZE = 8 * len(SLOTS)

    def __init__(self, path: str) -> None:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(descriptor).st_size < self.SIZE:
                os.ftruncate(descriptor, self.SIZE)
            self._memory = mmap.mmap(descriptor, self.SIZE)
        finally:
            os.close(descriptor)

    def read(self) -> tuple[int, int]:
        """(public, sessions) as last written."""
        public, sessions = struct.unpack_from("<QQ", self._memory)
        return int(public), int(sessions)

    def write(self, name: str, value: int) -> None:
        struct.pack_into("<Q", self._memory, 8 * self.SLOTS.index(name), value)

    @classmethod
    def beside(cls, app: Flask) -> ChangeSignal | None:
        """The signal of the app's SQLite database file; None for other databases or one
        in memory."""
        with app.app_context():
            from .extensions import db

            url = db.engine.url
            if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
                return None
            signal = cls(f"{url.database}-changes")
            after_counted_commit(db.engine, signal.write)
            return signal


class ChangeMonitor:
    """The public state for this process: `state()` on every request, `seen()` to tell
    whether anything moved while a page was being rendered."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self.watcher = ChangeWatcher(app)
        self.signal = ChangeSignal.beside(app)
        self._state: PublicState | None = None
        self._signal_seen: tuple[int, int] | None = None
        self._checked_at = 0.0

    def now(self) -> datetime:
        clock = self._app.config.get("CLOCK")
        return clock() if clock is not None else datetime.now(UTC)

    def state(self, now: datetime | None = None) -> PublicState:
        """The public state now. Raises SQLAlchemyError when the database cannot say."""
        now = now or self.now()
        signal = self.signal.read() if self.signal is not None else None
        state = self._state
        if (
            state is not None
            and signal is not None
            and signal == self._signal_seen
            and now < state.next_due
            and time.monotonic() - self._checked_at < TRUST_SIGNAL_SECONDS
        ):
            return state
        state = self.watcher.state(now)
        # Plain attribute stores: two threads racing here both store a fresh state.
        self._state, self._signal_seen, self._checked_at = state, signal, time.monotonic()
        return state

    def seen(self) -> tuple[PublicState | None, tuple[int, int] | None]:
        """What the last look found, and the shared memory now: compare two of these to
        tell whether a change landed in between (without asking the database)."""
        return self._state, self.signal.read() if self.signal is not None else None

    def forget(self) -> None:
        """Ask the database at the next look (after an error, or in tests)."""
        self._state = None


def install(app: Flask) -> ChangeMonitor:
    monitor = ChangeMonitor(app)
    app.extensions["blog.changes"] = monitor
    return monitor


def monitor() -> ChangeMonitor:
    """The current app's monitor."""
    return current_app.extensions["blog.changes"]  # type: ignore[no-any-return]


T = TypeVar("T")
_KEPT = "blog.kept_per_change"


def kept_per_change(name: str, compute: Callable[[datetime], T]) -> T:
    """`compute(now)`'s value, computed once per public state and kept for the app: for
    facts about public data that every request would otherwise ask for (settings, whether
    the site has several authors). `compute` reads through `db.session`.

    The value is kept only when it was computed for the state the monitor reports: at a
    time before that state's next scheduled post, from a snapshot of the database with
    the same counter (a transaction that began before a change, or after one the monitor
    has not yet seen, computes for itself and keeps nothing), and outside `writing()`
    (what a write transaction reads may never be committed).
    """
    from .extensions import db

    try:
        state = monitor().state()
    except SQLAlchemyError:
        return compute(monitor().now())  # the database cannot say: nothing is kept
    kept: dict[str, tuple[Any, Any]] = current_app.extensions.setdefault(_KEPT, {})
    known = kept.get(name)
    if known is not None and known[0] == state.pages:
        return known[1]  # type: ignore[no-any-return]
    now = monitor().now()  # after the state: what is computed is at least that recent
    value = compute(now)
    if (
        now < state.next_due
        and not in_write_transaction()
        and read_change_counter(db.session.connection(), PUBLIC_COUNTER) == state.counter
    ):
        kept[name] = (state.pages, value)
    return value


def forget_kept(name: str) -> None:
    """Compute `name` again at its next use (this transaction changed what it depends on)."""
    current_app.extensions.get(_KEPT, {}).pop(name, None)
