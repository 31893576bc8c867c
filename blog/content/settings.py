"""Site settings: stored in the database, defaulting to the app's configuration."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from ..database import upsert
from ..extensions import db
from ..models import Setting

# setting name -> config key it defaults to
DEFAULTS = {
    "title": "BLOG_TITLE",
    "description": "BLOG_DESCRIPTION",
    "language": "BLOG_LANGUAGE",
    "timezone": "BLOG_TIMEZONE",
    "posts_per_page": "POSTS_PER_PAGE",
    # Contributors and authors may add categories and tags by typing them (editors always may).
    "writers_may_add_terms": "BLOG_WRITERS_MAY_ADD_TERMS",
}


def site_settings() -> dict[str, Any]:
    """All settings for this app context (read once per request)."""
    if "site_settings" not in g:
        values = {name: current_app.config[key] for name, key in DEFAULTS.items()}
        try:
            rows = db.session.execute(select(Setting)).scalars().all()
        except OperationalError:
            # Error pages must render even when the database cannot be read.
            db.session.rollback()
            return values
        values.update({row.key: row.value for row in rows})
        g.site_settings = values
    return g.site_settings


def set_setting(key: str, value: Any) -> None:
    """Store one setting, inside `writing()`."""
    upsert(db.session, Setting, {"key": key, "value": value}, unique=["key"])
    g.pop("site_settings", None)


def site_zone() -> ZoneInfo:
    return ZoneInfo(site_settings()["timezone"])
