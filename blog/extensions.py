"""Flask extensions, created unbound and bound to the app in create_app()."""

from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from htmx_flask import Htmx
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
htmx = Htmx()
