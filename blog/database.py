"""The one seam for database-specific behaviour (SQLite today, PostgreSQL later)."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

# WAL lets readers work while one writer commits; the busy timeout makes writers queue
# instead of failing at once with "database is locked".
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA synchronous=NORMAL",
)


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure_engine(engine: Engine) -> None:
    """Attach per-connection settings for the engine's database."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's documented
        # recipe is to switch it off and emit BEGIN ourselves (see the "begin" hook).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(_begin_statement())


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
