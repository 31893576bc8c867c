"""A private PostgreSQL server for the test suite's PostgreSQL run (`pytest --database postgresql`).

Debian's server binaries (package postgresql, which .ci/run installs) run a throwaway cluster
in a temporary directory, on a free port of 127.0.0.1 with a random password, for the length
of the run; every test gets its own database and drops it afterwards. Nothing is mocked: it
is the real server, with durability settings relaxed (fsync off) because the cluster is
thrown away anyway. The server refuses to run as root, so under root it runs as Debian's
`postgres` user.

`BLOG_TEST_POSTGRES_URL` (e.g. postgresql+psycopg://user:pw@host/postgres, a role allowed to
create databases) uses a server that is already running instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import URL, make_url

DRIVER = "postgresql+psycopg"


def server_binaries() -> Path | None:
    """The directory of Debian's PostgreSQL server programs (the newest installed), or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One PostgreSQL server the tests make databases on."""

    def __init__(self, admin_url: URL, process_dir: Path | None = None) -> None:
        self.admin_url = admin_url  # a role that may CREATE DATABASE, on its default database
        self._dir = process_dir  # the private cluster's directory (None: an outside server)
        self._admin = None

    # --- starting and stopping a private cluster --------------------------------------------

    @classmethod
    def start_private(cls) -> PostgresServer:
        binaries = server_binaries()
        if binaries is None:
            raise RuntimeError("PostgreSQL's server is not installed (apt-get install postgresql)")
        directory = Path(tempfile.mkdtemp(prefix="blog-test-postgres-"))
        data, sockets = directory / "data", directory / "sockets"
        data.mkdir()
        sockets.mkdir()
        run_as: list[str] = []
        if os.geteuid() == 0:
            # postgres refuses to run as root; Debian's package made this user.
            user = pwd.getpwnam("postgres")
            for path in (directory, data, sockets):
                os.chown(path, user.pw_uid, user.pw_gid)
            run_as = ["runuser", "-u", "postgres", "--"]
        # A password checked by the server (SCRAM), as on a real one: the blog's commands
        # must pass it (pg_dump through PGPASSWORD), and no other user of the machine can
        # connect to the cluster while the tests run.
        password = secrets.token_urlsafe(16)
        password_file = directory / "password"
        password_file.write_text(password)
        if run_as:
            os.chown(password_file, user.pw_uid, user.pw_gid)
        subprocess.run(
            [*run_as, str(binaries / "initdb"), "-D", str(data), "-A", "scram-sha-256",
             f"--pwfile={password_file}", "-U", "blog", "-E", "UTF8", "--locale=C.UTF-8",
             "--no-sync"],
            check=True, capture_output=True,
        )  # fmt: skip
        password_file.unlink()
        port = _free_port()
        options = " ".join([
            f"-p {port}", "-c listen_addresses=127.0.0.1", f"-k {sockets}",
            # Thrown away after the run: no need to survive a power cut.
            "-c fsync=off", "-c full_page_writes=off", "-c synchronous_commit=off",
            "-c max_connections=200",
        ])  # fmt: skip
        subprocess.run(
            [*run_as, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(directory / "log"),
             "-o", options, "-w", "-t", "60", "start"],
            check=True, capture_output=True,
        )  # fmt: skip
        url = URL.create(DRIVER, username="blog", password=password, host="127.0.0.1", port=port,
                         database="postgres")  # fmt: skip
        server = cls(url, directory)
        server._run_as = run_as  # type: ignore[attr-defined]
        return server

    @classmethod
    def from_environment(cls) -> PostgresServer:
        outside = os.environ.get("BLOG_TEST_POSTGRES_URL")
        if outside:
            return cls(make_url(outside).set(drivername=DRIVER))
        return cls.start_private()

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._dir is None:
            return
        binaries = server_binaries()
        run_as = getattr(self, "_run_as", [])
        subprocess.run(
            [*run_as, str(binaries / "pg_ctl"), "-D", str(self._dir / "data"), "-m", "immediate",
             "-w", "stop"],
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self._dir, ignore_errors=True)

    # --- databases ---------------------------------------------------------------------------

    def _connection(self):  # type: ignore[no-untyped-def]
        import psycopg

        if self._admin is None or self._admin.closed:
            self._admin = psycopg.connect(_libpq(self.admin_url), autocommit=True)
        return self._admin

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database, empty or a copy of `template`; its SQLAlchemy URL."""
        copied = f' TEMPLATE "{template}"' if template else ""
        self._connection().execute(f'CREATE DATABASE "{name}"{copied}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        # FORCE ends what a test left connected (a pool not disposed, a killed process).
        for attempt in range(3):
            try:
                self._connection().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except Exception:
                if attempt == 2:
                    raise
                time.sleep(0.2)

    def url(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)


def _libpq(url: URL) -> str:
    """`url` as a libpq connection string."""
    parts = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
    }
    return " ".join(f"{key}={value}" for key, value in parts.items() if value)
