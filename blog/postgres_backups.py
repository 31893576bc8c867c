"""PostgreSQL's side of blog/backups.py: `pg_dump`, `pg_restore` and `psql`, Debian's
postgresql-client programs, run as separate processes.

Backup: `pg_dump --format=custom` reads the whole database inside one repeatable-read
transaction, so the file is one consistent moment while the blog serves and saves.

Check: `pg_restore --list` reads the file's table of contents (the blog's tables, an
alembic_version), then `pg_restore --data-only` reads every row out of it (every compressed
block is read, so a damaged or cut file is caught) and the rows are counted as they pass.

Restore: one `psql` session, one transaction: it checks that nobody else is connected,
drops the `public` schema with everything in it, creates it again as it was (owner and
grants) and runs the SQL `pg_restore` writes; COMMIT is sent only once `pg_restore` has
finished well. Any failure rolls it all back: the live database stays as it was.

The password never reaches a command line (`ps` shows those): it goes in PGPASSWORD.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SQLAlchemyError

from .backups import BackupError, Contents, Replaced, check_blog_tables, check_known_revision

DUMP_HEADER = b"PGDMP"  # how every custom-format archive starts
CLIENT_PACKAGE = "postgresql-client"
# Counted for Contents, from the dump's COPY blocks.
COUNTED = ("posts", "revisions", "media", "users", "alembic_version")
IN_USE_MARK = "blog-restore: in use by"

# The start of the restore's transaction (see the module's docstring). The schema is made
# again with its owner and grants (PostgreSQL 15: pg_database_owner, USAGE to PUBLIC), so
# roles other than the blog's keep the access they had.
RESTORE_PREAMBLE = f"""
BEGIN;
-- Never wait for ever behind a process that connected after all; never cut a long restore.
SET LOCAL lock_timeout = '10s';
SET LOCAL statement_timeout = 0;
DO $blog_restore$
DECLARE
  others integer;
  owner text;
  grants text[];
  statement text;
BEGIN
  SELECT count(*) INTO others FROM pg_stat_activity
   WHERE datname = current_database() AND pid <> pg_backend_pid()
     AND backend_type = 'client backend';
  IF others > 0 THEN
    RAISE EXCEPTION '{IN_USE_MARK} % other connection(s)', others;
  END IF;
  SELECT nspowner::regrole::text INTO owner FROM pg_namespace WHERE nspname = 'public';
  SELECT coalesce(array_agg(format('GRANT %s ON SCHEMA public TO %s', acl.privilege_type,
           CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE acl.grantee::regrole::text END)), '{{}}')
    INTO grants
    FROM pg_namespace AS schema, aclexplode(schema.nspacl) AS acl
   WHERE schema.nspname = 'public' AND acl.grantee <> schema.nspowner;
  DROP SCHEMA IF EXISTS public CASCADE;
  CREATE SCHEMA public;
  IF owner IS NOT NULL THEN
    EXECUTE format('ALTER SCHEMA public OWNER TO %s', owner);
  END IF;
  FOREACH statement IN ARRAY grants LOOP
    EXECUTE statement;
  END LOOP;
END
$blog_restore$;
""".encode()


def _quoted(value: str) -> str:
    """A libpq connection-string value: single quotes, backslash escapes."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def connection_for(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for `url` without its password, and the environment that
    carries the password (PGPASSWORD) to the program."""
    parts: dict[str, object] = {"host": url.host, "port": url.port, "user": url.username,
                                "dbname": url.database}  # fmt: skip
    for key, value in url.query.items():  # sslmode, a socket directory as host, ...
        parts[key] = value[-1] if isinstance(value, tuple) else value
    conninfo = " ".join(
        f"{key}={_quoted(str(value))}" for key, value in parts.items() if value not in (None, "")
    )
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    return conninfo, environment


def server_version(engine: Engine) -> str:
    try:
        with engine.connect() as connection:
            return str(connection.exec_driver_sql("SHOW server_version").scalar())
    except SQLAlchemyError as error:
        raise BackupError(f"The database cannot be reached: {error.orig or error}") from None


def _program(name: str, server: str | None) -> str:
    found = shutil.which(name)
    if found is None:
        server_is = f" (PostgreSQL {server.split()[0]})" if server else ""
        raise BackupError(
            f"{name} is not installed: it comes in Debian's {CLIENT_PACKAGE} package "
            f"(apt-get install {CLIENT_PACKAGE}), whose major version must be at least the "
            f"server's{server_is}."
        )
    return found


def _version_of(program: str) -> str:
    result = subprocess.run([program, "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or program


def dump(engine: Engine, temporary: Path) -> None:
    """`pg_dump --format=custom` of the live database into `temporary`, which exists
    already (mode 0600: pg_dump writes into it and keeps the mode)."""
    server = server_version(engine)
    pg_dump = _program("pg_dump", server)
    conninfo, environment = connection_for(engine.url)
    result = subprocess.run(
        [pg_dump, "--format=custom", "--no-owner", "--no-privileges", "--no-password",
         f"--file={temporary}", f"--dbname={conninfo}"],
        env=environment, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode == 0:
        return
    said = result.stderr.strip()
    if "version mismatch" in said:
        major = server.split(".")[0]
        raise BackupError(
            f"{_version_of(pg_dump)} cannot back up a PostgreSQL {server.split()[0]} server: "
            f"pg_dump's major version must be at least the server's. Install "
            f"{CLIENT_PACKAGE}-{major} or newer (apt.postgresql.org has every version for "
            f"Debian). pg_dump said: {said}"
        )
    raise BackupError(f"pg_dump failed: {said}")


def _tables_listed(path: Path, pg_restore: str) -> set[str]:
    """The tables in the dump's table of contents (`pg_restore --list`)."""
    result = subprocess.run([pg_restore, "--list", str(path)], capture_output=True, text=True,
                            check=False)  # fmt: skip
    if result.returncode != 0:
        raise BackupError(
            f"{path} is damaged: pg_restore cannot read its table of contents: "
            f"{result.stderr.strip()}"
        )
    tables = set()
    for line in result.stdout.splitlines():
        # "215; 1259 16390 TABLE public posts blog" (id; catalog oid; type schema name owner)
        words = line.split()
        if len(words) >= 6 and words[3:5] == ["TABLE", "public"]:
            tables.add(words[5].strip('"'))
    return tables


class _Counter:
    """Counts the rows of COPY blocks in pg_restore's SQL, line by line (COPY's text format
    keeps each row on one line: newlines in values are written as \\n)."""

    def __init__(self) -> None:
        self.rows = dict.fromkeys(COUNTED, 0)
        self.media_bytes = 0
        self.revisions: list[str] = []
        self._table: str | None = None
        self._size_column = -1

    def feed(self, line: bytes) -> None:
        if self._table is None:
            if line.startswith(b"COPY "):
                self._start(line.decode("utf-8", "replace"))
            return
        if line in (b"\\.\n", b"\\."):
            self._table = None
        elif self._table in self.rows:
            self.rows[self._table] += 1
            fields = line.rstrip(b"\n").split(b"\t")
            if self._table == "media" and self._size_column >= 0:
                self.media_bytes += int(fields[self._size_column])
            elif self._table == "alembic_version":
                self.revisions.append(fields[0].decode())

    def _start(self, header: str) -> None:
        # COPY public.media (id, sha256, ..., size, ...) FROM stdin;
        self._table = header.split()[1].split(".")[-1].strip('"')
        columns = header[header.find("(") + 1 : header.find(")")].split(",")
        names = [column.strip().strip('"') for column in columns]
        self._size_column = names.index("size") if "size" in names else -1


def check_dump(path: Path) -> Contents:
    """What the custom-format dump at `path` holds, after reading all of it (see the
    module's docstring); BackupError saying what is wrong otherwise."""
    pg_restore = _program("pg_restore", None)
    tables = _tables_listed(path, pg_restore)
    check_blog_tables(path, tables)
    counter = _Counter()
    with tempfile.TemporaryFile() as errors:
        reader = subprocess.Popen(
            [pg_restore, "--data-only", "--file=-", str(path)],
            stdout=subprocess.PIPE, stderr=errors,
        )  # fmt: skip
        assert reader.stdout is not None
        try:
            for line in reader.stdout:
                counter.feed(line)
        except (IndexError, ValueError, UnicodeDecodeError):  # a row cut short, a bad number
            raise BackupError(f"{path} is damaged: a row of its data cannot be read.") from None
        finally:
            reader.stdout.close()
            returncode = reader.wait()
        if returncode != 0:
            raise BackupError(f"{path} is damaged: pg_restore cannot read it: {_said(errors)}")
    revision = check_known_revision(
        path, counter.revisions[0] if len(counter.revisions) == 1 else None
    )
    return Contents(
        path=path, size=path.stat().st_size, revision=revision, posts=counter.rows["posts"],
        revisions=counter.rows["revisions"], media=counter.rows["media"],
        media_bytes=counter.media_bytes, users=counter.rows["users"],
    )  # fmt: skip


def _said(errors: IO[bytes]) -> str:
    errors.seek(0)
    return errors.read().decode("utf-8", "replace").strip()[-2000:]


# The first releases whose pg_restore fences its SQL so that psql runs no meta-command a
# crafted dump carries (\! runs a shell command; CVE-2025-8714), by major version.
GUARDED_RELEASES = {13: 22, 14: 19, 15: 14, 16: 10, 17: 6}


def check_guarded(pg_restore: str) -> None:
    """BackupError unless `pg_restore` is a release whose output psql may safely run."""
    said = _version_of(pg_restore)
    found = re.search(r"\b(\d+)\.(\d+)", said)
    major, minor = (int(found[1]), int(found[2])) if found else (0, 0)
    if major in GUARDED_RELEASES and minor >= GUARDED_RELEASES[major] or major > 17:
        return
    raise BackupError(
        f"{said} is too old to restore with: from a crafted backup it could let psql run "
        "commands (CVE-2025-8714). Install a newer postgresql-client (15.14, 16.10, 17.6 or "
        "later)."
    )


def restore(engine: Engine, backup: Path, force: bool) -> Replaced:
    """Replace the live database's `public` schema with the dump at `backup` (checked
    before), in one transaction. Refuses (BackupError, nothing changed) while another
    connection uses the database, or when it holds posts and not `force`."""
    engine.dispose()  # this process's pooled connections would count as another's
    server = server_version(engine)
    pg_restore, psql = _program("pg_restore", server), _program("psql", server)
    check_guarded(pg_restore)
    with engine.connect() as connection:
        others = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        ).scalar_one()
        if others:
            raise _in_use(engine.url, others)
        posts = 0
        if connection.exec_driver_sql("SELECT to_regclass('public.posts')").scalar():
            posts = connection.exec_driver_sql("SELECT count(*) FROM public.posts").scalar_one()
        if posts and not force:
            raise BackupError(
                f"The blog's database ({engine.url.database}) holds {posts} post(s); restoring "
                "would replace them. Take a `blog backup` of it first if you may want them, "
                "then run `blog restore --force`."
            )
        counters: dict[str, int] = {}
        if connection.exec_driver_sql("SELECT to_regclass('public.change_counters')").scalar():
            counters = dict(
                connection.execute(text("SELECT name, value FROM public.change_counters")).all()
            )
    engine.dispose()
    _replace_schema(engine.url, backup, pg_restore, psql)
    return Replaced(posts=int(posts), counters=counters)


def _in_use(url: URL, others: int | str) -> BackupError:
    return BackupError(
        f"The blog's database ({url.database}) is open in another process: {others} other "
        "connection(s) (is `blog serve` running?). Stop every process of the blog, restore, "
        "then start them again: a running process would go on serving and writing, "
        "unaware of the replaced database."
    )


def _replace_schema(url: URL, backup: Path, pg_restore: str, psql: str) -> None:
    conninfo, environment = connection_for(url)
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        reader = subprocess.Popen(
            [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(backup)],
            stdout=subprocess.PIPE, stderr=restore_errors,
        )  # fmt: skip
        session = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1",
             f"--dbname={conninfo}", "--file=-"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors,
            env=environment,
        )  # fmt: skip
        assert reader.stdout is not None and session.stdin is not None
        read_well = psql_stopped = False
        try:
            session.stdin.write(RESTORE_PREAMBLE)
            shutil.copyfileobj(reader.stdout, session.stdin, 1 << 20)
            read_well = reader.wait() == 0
            if read_well:
                session.stdin.write(b"\nCOMMIT;\n")
        except BrokenPipeError:  # psql stopped at an error; it says which below
            psql_stopped = True
        finally:
            reader.stdout.close()
            if reader.poll() is None:
                reader.kill()
            reader.wait()
            if not read_well:
                # Never let psql reach the end of its input: the transaction must not
                # commit what pg_restore managed to write before it failed.
                session.kill()
            try:
                session.stdin.close()
            except BrokenPipeError:
                psql_stopped = True
            session.wait()
        said = _said(psql_errors)
        if IN_USE_MARK in said:
            raise _in_use(url, said.split(IN_USE_MARK, 1)[1].split()[0])
        if not read_well and not psql_stopped:
            raise BackupError(
                "pg_restore failed, so nothing was restored (the database is as it was): "
                f"{_said(restore_errors)}"
            )
        if psql_stopped or session.returncode != 0:
            raise BackupError(
                f"The restore failed and was rolled back (the database is as it was): {said}"
            )
