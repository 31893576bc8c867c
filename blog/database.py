"""The one seam for database-specific behaviour (SQLite today, PostgreSQL later)."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy import TypeDecorator, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

# WAL lets readers work while one writer commits; the busy timeout makes writers queue
# instead of failing at once with "database is locked".
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure_engine(
    engine: Engine, busy_timeout_ms: int = 10_000, max_page_count: int | None = None
) -> None:
    """Attach per-connection settings for the engine's database.

    `busy_timeout_ms` is how long a writer waits for the lock before giving up;
    `max_page_count` caps the SQLite file's size (in pages); tests use it to play disk full.
    """
    if engine.dialect.name != "sqlite":
        return
    pragmas = [*SQLITE_PRAGMAS, f"PRAGMA busy_timeout={int(busy_timeout_ms)}"]
    if max_page_count:
        pragmas.append(f"PRAGMA max_page_count={int(max_page_count)}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's documented
        # recipe is to switch it off and emit BEGIN ourselves (see the "begin" hook).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(_begin_statement())


def is_storage_full(error: OperationalError) -> bool:
    """The database refused a write for lack of space (disk or max_page_count)."""
    return "full" in str(error.orig).lower()


def _begin_statement() -> str:
    """BEGIN IMMEDIATE for anything that may write, plain BEGIN for page reads.

    A deferred transaction that reads first and writes later cannot wait for the write
    lock: SQLite answers "database is locked" at once. Taking the lock up front makes
    concurrent saves queue (up to busy_timeout) instead, while GET requests keep reading
    in parallel under WAL.
    """
    if has_request_context() and request.method in READ_ONLY_METHODS:
        return "BEGIN"
    return "BEGIN IMMEDIATE"


def render_migration_type(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    """Alembic autogenerate: write our column types as the plain SQLAlchemy types they wrap,
    so migrations never import application code that will change after them."""
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False
