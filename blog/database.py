"""The one seam for database-specific behaviour (SQLite, and PostgreSQL).

Code that writes says so: `with writing():` opens the one kind of transaction that may
write. On SQLite it takes the write lock up front (BEGIN IMMEDIATE), so concurrent saves
queue for up to the busy timeout instead of failing; on PostgreSQL it takes an advisory lock
that does the same (see _serialise_postgresql_writers). Every other transaction is a plain
read that never blocks a writer. Expensive work (rendering, sanitising, images) belongs
before `writing()`, so the lock is held only for the statements themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import TypeDecorator, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

# WAL lets readers work while one writer commits; the busy timeout makes writers queue
# instead of failing at once with "database is locked".
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
    # 1 MiB of pages per connection, not SQLite's 2: a server holds one per thread, and the
    # operating system keeps the file's pages in memory anyway (a miss costs a read()).
    "PRAGMA cache_size=-1024",
)
_WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE")

# True inside `writing()`, per thread (waitress) and per task.
_writing: ContextVar[bool] = ContextVar("blog_writing", default=False)
# Inside `writing()`: the change counters its statements call for (see counters_for).
_counted_changes: ContextVar[set[str] | None] = ContextVar("blog_counted_changes", default=None)
# True for a write that would rather not happen than wait for the lock (bookkeeping).
_without_waiting: ContextVar[bool] = ContextVar("blog_without_waiting", default=False)


# Tables whose rows no public page shows: writing them leaves every cached page valid.
# Any other table (posts, categories, settings, media, users' bylines, a table added later)
# counts as public, so forgetting to list one costs cache hits, never freshness.
PRIVATE_TABLES = frozenset({
    "login_sessions", "login_attempts", "working_copies", "audit_events", "password_resets",
    "alembic_version", "change_counters", "secrets",
})  # fmt: skip
# The change counter public pages are cached against (see changes.py).
PUBLIC_COUNTER = "public"
# The one signed-in readers' pages are cached against too: sign-ins, sign-outs, sessions
# ended elsewhere (see page_cache.py).
SESSIONS_COUNTER = "sessions"
SESSION_TABLES = frozenset({"login_sessions"})


def counters_for(table: str) -> tuple[str, ...]:
    """The change counters a write to `table` moves."""
    if table in SESSION_TABLES:
        return (SESSIONS_COUNTER,)
    if table in PRIVATE_TABLES:
        return ()
    return (PUBLIC_COUNTER,)


def written_table(statement: str, context: Any) -> str:
    """The table a write statement changes ("" when it cannot be told: counted as public)."""
    compiled = getattr(context, "compiled", None)
    table = getattr(getattr(compiled, "statement", None), "table", None)
    if table is not None and getattr(table, "name", None):
        return str(table.name)
    words = statement.replace("(", " ").split(None, 8)
    upper = [word.upper() for word in words]
    for marker in ("INTO", "UPDATE", "FROM"):
        if marker in upper[:6]:
            index = upper.index(marker) + 1
            if index < len(words):
                return words[index].strip('"`[]').lower()
    return ""


class WriteOutsideTransaction(RuntimeError):
    """A statement tried to change the database outside `writing()`: a bug in the caller."""


def configure_engine(
    engine: Engine, busy_timeout_ms: int = 10_000, max_page_count: int | None = None
) -> None:
    """Attach per-connection settings and the write-transaction rules to the engine.

    `busy_timeout_ms` is how long a writer waits for the lock before giving up;
    `max_page_count` caps the SQLite file's size (in pages); tests use it to play disk full.
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse_writes_outside_writing(
        conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, _many: bool
    ) -> None:
        compiled_write = context is not None and (
            context.isinsert or context.isupdate or context.isdelete
        )
        is_write = compiled_write or statement.lstrip()[:7].upper().startswith(_WRITE_STATEMENTS)
        if not is_write:
            return
        if not _writing.get():
            raise WriteOutsideTransaction(
                f"{statement.split(None, 3)[:3]} outside `with writing():`"
            )
        changes = _counted_changes.get()
        if changes is not None:
            # Counted once per transaction, at commit (see writing()).
            changes.update(counters_for(written_table(statement, context)))

    if engine.dialect.name == "postgresql":
        _serialise_postgresql_writers(engine, busy_timeout_ms)
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
        if _writing.get() and _without_waiting.get():
            connection.exec_driver_sql("PRAGMA busy_timeout=0")
            connection.info["busy_timeout_changed"] = True
        connection.exec_driver_sql(begin_statement())

    def _restore_busy_timeout(connection: Any) -> None:
        if connection.info.pop("busy_timeout_changed", False):
            connection.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")

    event.listen(engine, "commit", _restore_busy_timeout)
    event.listen(engine, "rollback", _restore_busy_timeout)


# The advisory lock every write transaction takes on PostgreSQL (any number the blog alone
# uses: "blog" in ASCII).
WRITE_LOCK_KEY = 0x626C6F67


def _serialise_postgresql_writers(engine: Engine, lock_timeout_ms: int) -> None:
    """One writer at a time on PostgreSQL too, as on SQLite: every `writing()` transaction
    first takes one transaction-scoped advisory lock (released at commit or rollback).

    The domain layer was written for SQLite's single writer: a conflict-safe save reads the
    post's version and then writes, a slug is checked free and then taken, a login attempt is
    counted and then compared with the limit. Under PostgreSQL's READ COMMITTED two such
    transactions could interleave; taken in turn, each sees the other's committed rows, as
    on SQLite. Reads never take the lock, and a blog's writes are few and short (rendering
    happens before `writing()`), so queueing them costs nothing readers notice.
    """

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _without_nul(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> tuple[str, Any]:
        return statement, _nul_free(parameters)

    @event.listens_for(engine, "begin")
    def _take_write_lock(connection: Any) -> None:
        if not _writing.get():
            return
        if _without_waiting.get():
            taken = connection.exec_driver_sql(
                f"SELECT pg_try_advisory_xact_lock({WRITE_LOCK_KEY})"
            ).scalar()
            if not taken:
                raise OperationalError(
                    "pg_try_advisory_xact_lock", None, Exception("another writer holds the lock")
                )
            return
        # As SQLite's busy timeout: wait this long for the lock, then fail.
        # At least 1 ms: 0 means "fail at once" to SQLite but "wait for ever" to PostgreSQL.
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, int(lock_timeout_ms))}")
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def _nul_free(value: Any) -> Any:
    """`value` (a statement's parameters) with NUL characters in its text as U+FFFD.

    PostgreSQL's text cannot hold NUL, and refuses the whole statement; SQLite stores it.
    Forms already refuse control characters; this covers what reaches a query otherwise
    (a NUL in a URL being looked up finds nothing, as on SQLite, instead of a 500)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {key: _nul_free(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_nul_free(item) for item in value)
    return value


def in_write_transaction() -> bool:
    """Whether this code runs inside `writing()`."""
    return _writing.get()


def begin_statement() -> str:
    """BEGIN IMMEDIATE inside `writing()`, plain (deferred) BEGIN for everything else.

    A deferred transaction that reads first and writes later cannot wait for the write
    lock: SQLite answers "database is locked" at once. Taking the lock up front makes
    concurrent saves queue (up to busy_timeout) instead, while reads go on under WAL.
    """
    return "BEGIN IMMEDIATE" if _writing.get() else "BEGIN"


@contextmanager
def schema_changes() -> Iterator[None]:
    """Let Alembic, which brings its own connection and transaction, write the schema."""
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


@contextmanager
def writing(
    session: scoped_session[Session] | Session | None = None, wait: bool = True
) -> Iterator[Session]:
    """One write transaction: commits at the end, rolls back on any error.

    A read transaction still open is ended first, so the write starts from fresh data
    (objects loaded before are expired and reload inside). Nested use joins the outer one.
    With `wait=False` the write gives up at once (OperationalError) when another holds
    the lock: for bookkeeping a page read must never wait for.
    """
    if session is None:
        from .extensions import db

        session = db.session
    if isinstance(session, scoped_session):
        session = session()  # this thread's session
    if _writing.get():
        yield session
        return
    if session.new or session.dirty or session.deleted:
        raise WriteOutsideTransaction("objects were changed before `with writing():`")
    if session.in_transaction():
        session.rollback()  # a read transaction: nothing to keep
    token, no_wait_token = _writing.set(True), _without_waiting.set(not wait)
    changes: set[str] = set()
    changes_token = _counted_changes.set(changes)
    try:
        yield session
        session.flush()
        # In the same transaction: a change is never acknowledged before every process's
        # cached pages can tell they are stale.
        counted = {
            name: bump_change_counter(session.connection(), name) for name in sorted(changes)
        }
        engine = session.get_bind()
        session.commit()
        for name, value in counted.items():
            for hook in _commit_hooks.get(engine, ()):
                hook(name, value)
    except BaseException:
        session.rollback()
        raise
    finally:
        _counted_changes.reset(changes_token)
        _writing.reset(token)
        _without_waiting.reset(no_wait_token)


def bump_change_counter(connection: Any, name: str) -> int:
    """Add one to a change counter, inside the caller's write transaction; its new value."""
    # Writers take turns (see writing()), so nobody can insert the row in between. Plain
    # statements, not an upsert with RETURNING: that needs SQLite 3.35, and RHEL 9 has 3.34.
    result = connection.execute(
        text("UPDATE change_counters SET value = value + 1 WHERE name = :name"), {"name": name}
    )
    if result.rowcount == 0:
        connection.execute(
            text("INSERT INTO change_counters (name, value) VALUES (:name, 1)"), {"name": name}
        )
    return read_change_counter(connection, name)


# engine -> what to call with (counter name, new value) once a counted change has committed
# (the change monitor tells the other processes through shared memory).
_commit_hooks: WeakKeyDictionary[Any, list[Callable[[str, int], None]]] = WeakKeyDictionary()


def after_counted_commit(engine: Any, hook: Callable[[str, int], None]) -> None:
    """Call `hook(counter name, new value)` after each committed write that moved a change
    counter (PUBLIC_COUNTER, SESSIONS_COUNTER)."""
    _commit_hooks.setdefault(engine, []).append(hook)


def after_public_commit(engine: Any, hook: Callable[[int], None]) -> None:
    """Call `hook(counter)` after each committed write that changed something public."""
    after_counted_commit(
        engine, lambda name, value: hook(value) if name == PUBLIC_COUNTER else None
    )


def read_change_counter(connection: Any, name: str) -> int:
    row = connection.execute(
        text("SELECT value FROM change_counters WHERE name = :name"), {"name": name}
    ).first()
    return int(row[0]) if row else 0


def _dialect_insert(session: Session | scoped_session[Session], model: Any) -> Any:
    """The INSERT construct with ON CONFLICT support for the session's database."""
    name = session.get_bind().dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise NotImplementedError(f"no upsert for {name}")
    return insert(model)


def insert_if_absent(
    session: Session | scoped_session[Session],
    model: Any,
    values: dict[str, Any],
    unique: Sequence[str],
) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: of several writers adding the same key, one row wins
    and nobody fails. Select the row afterwards to use it."""
    statement = _dialect_insert(session, model).values(**values)
    session.execute(statement.on_conflict_do_nothing(index_elements=list(unique)))


def upsert(
    session: Session | scoped_session[Session],
    model: Any,
    values: dict[str, Any],
    unique: Sequence[str],
) -> None:
    """INSERT, or UPDATE the row with the same `unique` key: one statement, no race."""
    statement = _dialect_insert(session, model).values(**values)
    changed = {name: statement.excluded[name] for name in values if name not in unique}
    session.execute(statement.on_conflict_do_update(index_elements=list(unique), set_=changed))


def reset_id_sequences(session: Session | scoped_session[Session], tables: Sequence[str]) -> None:
    """Move each table's id sequence past its largest id, after rows were inserted with
    explicit ids (an import): PostgreSQL's sequences never see those, and the next new row
    would take an id already used. SQLite needs nothing (a new id is the largest plus one)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    quote = session.get_bind().dialect.identifier_preparer.quote
    for table in tables:
        session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, 'id'), coalesce(max(id), 0) + 1, "
                f"false) FROM {quote(table)}"  # noqa: S608
            ),
            {"table": quote(table)},
        )


def is_storage_full(error: OperationalError) -> bool:
    """The database refused a write for lack of space (disk or max_page_count)."""
    return "full" in str(error.orig).lower()


# The search index (content/search.py): a virtual table, the tables SQLite keeps it in and its
# vocabulary. No model describes them; their migration makes them.
UNMODELLED_TABLES = frozenset({
    "post_search", "post_search_data", "post_search_idx", "post_search_content",
    "post_search_docsize", "post_search_config", "post_search_vocab", "post_search_title",
    "post_search_title_data", "post_search_title_idx", "post_search_title_content",
    "post_search_title_docsize", "post_search_title_config",
})  # fmt: skip


def described_by_models(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Alembic's `include_name`: compare the schema with the models, not the search index."""
    return not (type_ == "table" and name in UNMODELLED_TABLES)


def render_migration_type(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    """Alembic autogenerate: write our column types as the plain SQLAlchemy types they wrap,
    so migrations never import application code that will change after them."""
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


class _Unindexed(ColumnElement[Any]):
    """A column the query planner must not pick an index by (see `unindexed`)."""

    inherit_cache = True
    # What SQLAlchemy's statement cache keys on: the wrapped column.
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(_Unindexed)
def _compile_unindexed(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))


@compiles(_Unindexed, "sqlite")
def _compile_unindexed_sqlite(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    # SQLite's documented way to keep a term from choosing the index ("unary +").
    return "+" + str(compiler.process(element.column, **kw))


def unindexed(column: Any) -> Any:
    """`column`, which the planner must not choose an index by: without statistics, SQLite
    prefers an equality on an indexed column (`status IN (...)`) to an index that returns
    rows already in the query's order, and then sorts every match to return ten."""
    return _Unindexed(column)
