"""Flask extensions, created unbound and bound to the app in create_app()."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy.orm import DeclarativeBase

from .database import render_migration_type


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
# Schema changes ship as Alembic migrations (blog/migrations); batch mode because SQLite
# cannot ALTER most things in place.
migrate = Migrate(render_as_batch=True, render_item=render_migration_type)
htmx = Htmx()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
