"""The migrations build exactly the schema the models describe, and upgrade in place."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import inspect

from blog import create_app
from blog.extensions import db


def test_migrations_create_the_schema_of_the_models(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"},
        instance_path=str(tmp_path / "instance"),
    )
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == [], "run `blog db migrate -m ...` and commit the new migration"
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}


def test_init_adopts_a_database_made_before_migrations(app: Flask, runner: FlaskCliRunner) -> None:
    # The app fixture builds its tables with create_all(), as installs before migrations did.
    result = runner.invoke(args=["init", "--no-sample"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert "alembic_version" in inspect(db.engine).get_table_names()
