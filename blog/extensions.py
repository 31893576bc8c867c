"""Flask extensions, created unbound and bound to the app in create_app()."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy.orm import DeclarativeBase

from .database import render_migration_type

if TYPE_CHECKING:
    from flask import Flask


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
htmx = Htmx()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def init_migrations(app: Flask) -> None:
    """Bind Flask-Migrate (Alembic) to `app`, where schema work happens: `blog init`, the
    `blog db ...` commands and tests. Not in `blog serve` or wsgi.py: importing Alembic is
    about an eighth of a second of every start-up, and serving never migrates."""
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate

    # Schema changes ship as Alembic migrations (blog/migrations); batch mode because
    # SQLite cannot ALTER most things in place.
    Migrate(render_as_batch=True, render_item=render_migration_type).init_app(
        app, db, directory=str(Path(__file__).parent / "migrations")
    )
