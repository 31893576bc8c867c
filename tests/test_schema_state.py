"""`blog serve` and /healthz tell the database's schema from the code's without Alembic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import create_engine, text

from blog.database import schema_changes
from blog.extensions import db
from blog.schema_state import OLDER_MESSAGE, VERSIONS, head_revision, revisions, schema_state
from tests.conftest import database_env, database_url

FIRST_REVISION = "178d4886ab14"


def stamp(app: Flask, *versions: str) -> None:
    """Mark the database as Alembic does: one row per head it is at."""
    with app.app_context(), schema_changes(), db.engine.begin() as connection:
        run = connection.exec_driver_sql
        run("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        run("DELETE FROM alembic_version")
        for version in versions:
            connection.execute(
                text("INSERT INTO alembic_version VALUES (:version)"), {"version": version}
            )


def state_of(app: Flask) -> tuple[str, str]:
    with app.app_context(), db.engine.connect() as connection:
        return schema_state(connection)


def test_the_revisions_read_as_text_are_alembics() -> None:
    script = ScriptDirectory(str(VERSIONS.parent))
    known, heads = revisions()
    assert heads == set(script.get_heads()) and len(heads) == 1
    assert known == {revision.revision for revision in script.walk_revisions()}


def test_each_state_of_a_database(app: Flask) -> None:
    # The app fixture makes the tables with create_all(), as blogs before migrations did.
    assert state_of(app) == ("older", "")
    stamp(app, head_revision())
    assert state_of(app) == ("current", head_revision())
    stamp(app, FIRST_REVISION)
    assert state_of(app) == ("older", FIRST_REVISION)
    stamp(app, "0123456789ab")
    assert state_of(app) == ("newer", "0123456789ab")


def test_serve_on_an_older_schema_says_to_run_init(app: Flask, runner: FlaskCliRunner) -> None:
    stamp(app, FIRST_REVISION)
    result = runner.invoke(args=["serve", "--port", "1"])
    assert result.exit_code == 1
    assert OLDER_MESSAGE in result.output
    assert "Blog running" not in result.output


def test_serve_refuses_a_schema_newer_than_the_code(app: Flask, runner: FlaskCliRunner) -> None:
    stamp(app, "fedcba987654")
    result = runner.invoke(args=["serve", "--port", "1"])
    assert result.exit_code == 1
    assert "The database schema (fedcba987654) is newer than this version" in result.output
    assert head_revision() in result.output and "Blog running" not in result.output


@pytest.mark.parametrize("revision", [FIRST_REVISION, "fedcba987654"])
def test_the_blog_command_answers_with_a_message_not_a_traceback(
    tmp_path: Path, revision: str
) -> None:
    """The console script, as an operator runs it after copying an old or new database."""
    blog = Path(sys.executable).parent / "blog"
    env = {**os.environ, "BLOG_INSTANCE_PATH": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    env.update(database_env(tmp_path / "data"))
    init = subprocess.run([blog, "init", "--no-sample"], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert init.returncode == 0, init.stderr
    engine = create_engine(database_url(tmp_path / "data"))
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    engine.dispose()
    served = subprocess.run([blog, "serve", "--port", "1"], env=env, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert served.returncode == 1
    assert "Traceback" not in served.stderr
    expected = OLDER_MESSAGE if revision == FIRST_REVISION else "is newer than this version"
    assert expected in served.stderr
