"""Whole-database backups and restores: the database-specific part, behind three functions.

SQLite (today): `backup_database` copies the live file with SQLite's online backup API
(`sqlite3.Connection.backup` on the app engine's own DBAPI connection) in ONE step, which
copies every page inside one read transaction: a consistent snapshot, taken while `blog
serve` keeps reading and writing (WAL lets writers commit meanwhile). The alternative,
`VACUUM INTO`, is as consistent but rebuilds every table and index (slower on a large
blog, for a smaller file); a page copy is the cheapest exact copy. Copied in several steps,
the backup API would restart whenever another connection writes, and might never finish.

PostgreSQL: `pg_dump --format=custom`, checked and restored with `pg_restore` and `psql`
(blog/postgres_backups.py). A backup restores only into the kind of database it was taken
from; `blog export-json` and `blog import-json` move a site from one kind to the other.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, Engine

SQLITE_HEADER = b"SQLite format 3\x00"
DUMP_HEADER = b"PGDMP"  # a pg_dump custom-format archive
MIGRATIONS = Path(__file__).parent / "migrations"
# Tables every schema revision of the blog has: a file without them is not a blog.
BLOG_TABLES = frozenset({
    "posts", "revisions", "users", "media", "settings", "categories", "tags", "redirects",
})  # fmt: skip
# Files SQLite keeps beside a database while it is in use.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, for the operator."""


@dataclass(frozen=True)
class Contents:
    """What a backup file holds, counted from the file itself."""

    path: Path
    size: int  # bytes on disk
    revision: str  # Alembic schema revision
    posts: int
    revisions: int
    media: int
    media_bytes: int
    users: int

    def describe(self) -> str:
        return (
            f"{_megabytes(self.size)}: {self.posts} post(s) with {self.revisions} revision(s), "
            f"{self.media} media file(s) ({_megabytes(self.media_bytes)}), {self.users} user(s); "
            f"schema {self.revision}"
        )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def on_postgresql(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"


def live_database(url: URL) -> str:
    """The live database, for the operator: its file, or its server URL without password."""
    if on_postgresql(url):
        return url.render_as_string(hide_password=True)
    return str(sqlite_file(url))


def sqlite_file(url: URL) -> Path:
    """The live database's file (`url` is the engine's); BackupError for any other database
    than SQLite and PostgreSQL."""
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            f"Backups of {url.get_backend_name()} databases are not supported: only SQLite "
            "and PostgreSQL."
        )
    if url.database in (None, "", ":memory:"):
        raise BackupError("The database is in memory: there is nothing to back up or restore.")
    return Path(url.database).absolute()


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _replace(temporary: Path, target: Path) -> None:
    """Move a finished file into place durably: its bytes on disk first, then the rename."""
    _fsync(temporary)
    os.replace(temporary, target)
    _fsync(target.parent)  # the rename itself


def _copy_sqlite(source: sqlite3.Connection, destination: Path) -> None:
    """A one-step backup-API copy of `source` into a new file, left in rollback-journal mode
    so that it is one self-contained file (no -wal beside it)."""
    # Readable by the owner alone: it holds password hashes and unpublished posts.
    os.close(os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    with closing(sqlite3.connect(destination, isolation_level=None)) as copy:
        source.backup(copy)  # pages=-1: every page in one step, one read transaction
        copy.execute("PRAGMA journal_mode=DELETE")


def backup_database(engine: Engine, target: Path) -> Contents:
    """Write a consistent copy of the live database to `target` (replaced atomically)."""
    postgresql = on_postgresql(engine.url)
    target = target.absolute()
    if not postgresql:
        live = sqlite_file(engine.url)
        if target == live or (target.exists() and live.exists() and target.samefile(live)):
            raise BackupError(f"{target} is the live database itself; choose another file.")
    if target.is_dir():
        raise BackupError(f"{target} is a directory; name the file to write.")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} does not exist.")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        if postgresql:
            from . import postgres_backups

            # Readable by the owner alone: it holds password hashes and unpublished posts.
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
            postgres_backups.dump(engine, temporary)
        else:
            raw = engine.raw_connection()
            try:
                _copy_sqlite(raw.driver_connection, temporary)
            finally:
                raw.close()
        _replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    if postgresql:
        return postgres_backups.check_dump(target)
    return backup_contents(target)


@cache
def known_revisions() -> tuple[tuple[str, ...], str]:
    """Every schema revision this code has a migration for, and the newest (head)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return tuple(revision.revision for revision in script.walk_revisions()), head


def _open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)


def check_blog_tables(path: Path, tables: set[str]) -> None:
    """BackupError unless the backup at `path`, holding `tables`, is a blog's with a schema
    revision."""
    missing = sorted(BLOG_TABLES - tables)
    if missing:
        raise BackupError(
            f"{path} is not a backup of this blog: it has no {', '.join(missing)} table."
        )
    if "alembic_version" not in tables:
        raise BackupError(f"{path} has no schema revision (no alembic_version table).")


def check_known_revision(path: Path, revision: str | None) -> str:
    """`revision` if this code has a migration for it; BackupError otherwise (a backup made by
    a newer version, or one with no single revision row)."""
    known, head = known_revisions()
    if revision not in known:
        raise BackupError(
            f"{path} has schema revision {revision!r}, which this version of the blog does "
            f"not know (its newest is {head}): it was made by a newer version. Restore it "
            "with that version."
        )
    assert revision is not None
    return revision


def check_backup(path: Path, live: URL | None = None) -> Contents:
    """What the backup at `path` holds, after checking that it can be restored into the
    database at `live` (default: SQLite): a SQLite database that passes `PRAGMA
    integrity_check`, or a pg_dump custom-format archive pg_restore reads through, with
    the blog's tables and a schema revision this code knows. BackupError saying what is
    wrong otherwise."""
    path = path.absolute()
    postgresql = live is not None and on_postgresql(live)
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    with path.open("rb") as handle:
        start = handle.read(len(SQLITE_HEADER))
    kind = "SQLite" if start == SQLITE_HEADER else "PostgreSQL" if start.startswith(
        DUMP_HEADER) else None  # fmt: skip
    if kind is not None and (kind == "PostgreSQL") != postgresql:
        raise BackupError(
            f"{path} is a backup of a {kind} database, and this blog runs on "
            f"{'PostgreSQL' if postgresql else 'SQLite'}: a backup restores only into the "
            "kind of database it was taken from. To move a site from one to the other, run "
            "`blog export-json FILE` on the old blog and `blog import-json FILE` on the new."
        )
    if postgresql:
        if kind is None:
            raise BackupError(
                f"{path} is not a PostgreSQL backup (it does not start like a pg_dump "
                "custom-format file)."
            )
        from . import postgres_backups

        return postgres_backups.check_dump(path)
    if kind is None:
        raise BackupError(f"{path} is not a SQLite database (it does not start like one).")
    try:
        with closing(_open_read_only(path)) as connection:
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check(10)")]
            if problems != ["ok"]:
                raise BackupError(
                    f"{path} is damaged: SQLite's integrity check says: " + "; ".join(problems)
                )
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            check_blog_tables(path, tables)
            rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        revision = check_known_revision(path, rows[0][0] if len(rows) == 1 else None)
        return backup_contents(path, revision)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is damaged, or not a SQLite database: {error}") from None


def backup_contents(path: Path, revision: str | None = None) -> Contents:
    """Count what the database file at `path` holds."""
    with closing(_open_read_only(path)) as connection:

        def count(query: str) -> int:
            return int(connection.execute(query).fetchone()[0] or 0)

        if revision is None:
            revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        return Contents(
            path=path,
            size=path.stat().st_size,
            revision=str(revision),
            posts=count("SELECT count(*) FROM posts"),
            revisions=count("SELECT count(*) FROM revisions"),
            media=count("SELECT count(*) FROM media"),
            media_bytes=count("SELECT sum(size) FROM media"),
            users=count("SELECT count(*) FROM users"),
        )


@dataclass(frozen=True)
class Replaced:
    """What a restore replaced: the live database's post count and change counters."""

    posts: int
    counters: dict[str, int]


def _counters(connection: sqlite3.Connection) -> dict[str, int]:
    try:
        return dict(connection.execute("SELECT name, value FROM change_counters").fetchall())
    except sqlite3.OperationalError:  # a schema older than the counters
        return {}


def restore_database(engine: Engine, backup: Path, force: bool) -> Replaced:
    """Replace the live database with the checked backup at `backup`, atomically.

    Refuses (BackupError, live database untouched) while another process has the database
    open: a running `blog serve` keeps its connections on the old file and would go on
    serving, and writing, a database nobody will see again. Refuses to replace a database
    that holds posts unless `force`. The caller upgrades the schema afterwards.
    PostgreSQL: see postgres_backups.restore.
    """
    if on_postgresql(engine.url):
        from . import postgres_backups

        return postgres_backups.restore(engine, backup, force)
    live = sqlite_file(engine.url)
    engine.dispose()  # this process's own pooled connections would count as another process
    live.parent.mkdir(parents=True, exist_ok=True)
    temporary = live.with_name(f".{live.name}.{os.getpid()}.restoring")
    try:
        # Through the backup API, so a -wal beside the backup file is taken in as well.
        with closing(_open_read_only(backup.absolute())) as source:
            _copy_sqlite(source, temporary)
        if not live.exists():
            for suffix in SQLITE_COMPANIONS:  # left by a database deleted by hand
                Path(f"{live}{suffix}").unlink(missing_ok=True)
            _replace(temporary, live)
            return Replaced(posts=0, counters={})
        with closing(_hold_exclusively(live)) as holder:
            posts = _post_count(holder)
            if posts and not force:
                holder.execute("ROLLBACK")
                holder.execute("PRAGMA journal_mode=WAL")  # as it was
                raise BackupError(
                    f"The blog's database ({live}) holds {posts} post(s); restoring would "
                    "replace them. Take a `blog backup` of it first if you may want them, then "
                    "run `blog restore --force`."
                )
            counters = _counters(holder)
            # Still holding the old file's lock: no process can open it in between.
            _replace(temporary, live)
            for suffix in SQLITE_COMPANIONS:
                Path(f"{live}{suffix}").unlink(missing_ok=True)
        return Replaced(posts=posts, counters=counters)
    finally:
        temporary.unlink(missing_ok=True)


def _hold_exclusively(live: Path) -> sqlite3.Connection:
    """A connection holding the live database's exclusive lock, its WAL checkpointed and
    removed (an old -wal must never meet the new file). BackupError when another process
    has the database open: SQLite refuses to leave WAL mode while another connection is
    open, even an idle one."""
    connection = sqlite3.connect(live, isolation_level=None, timeout=0)
    try:
        connection.execute("PRAGMA locking_mode=EXCLUSIVE")
        mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if mode != "delete":
            raise sqlite3.OperationalError(f"database is locked (journal mode stays {mode})")
        connection.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError as error:
        connection.close()
        if "locked" not in str(error) and "busy" not in str(error):
            raise BackupError(f"{live} cannot be replaced: {error}") from None
        raise BackupError(
            f"The blog's database ({live}) is open in another process (is `blog serve` "
            "running?). Stop every process of the blog, restore, then start them again: a "
            "running process would keep serving, and writing, the replaced file."
        ) from None
    return connection


def _post_count(connection: sqlite3.Connection) -> int:
    try:
        return int(connection.execute("SELECT count(*) FROM posts").fetchone()[0])
    except sqlite3.OperationalError:  # no posts table: a database never set up
        return 0


def advance_change_counters(past: dict[str, int], signal: Any) -> dict[str, int]:
    """Move the restored database's change counters past both its own and the replaced
    database's, inside `writing()`, and tell the shared memory: a page cached or mirrored
    for either database can never pass for a page of the restored one."""
    from .database import PUBLIC_COUNTER, SESSIONS_COUNTER, read_change_counter, upsert, writing
    from .extensions import db
    from .models import ChangeCounter

    values = {}
    with writing() as session:
        for name in (PUBLIC_COUNTER, SESSIONS_COUNTER):
            value = max(read_change_counter(session.connection(), name), past.get(name, 0)) + 1
            upsert(db.session, ChangeCounter, {"name": name, "value": value}, ["name"])
            values[name] = value
    if signal is not None:
        for name, value in values.items():
            signal.write(name, value)
    return values
