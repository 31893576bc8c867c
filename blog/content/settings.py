"""Site settings: stored in the database, defaulting to the app's configuration."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from .. import changes
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
    # Where readers reach the blog, for canonical links, feeds and sitemaps; empty: the
    # configured BLOG_BASE_URL, else the request's (checked) host.
    "base_url": "BLOG_BASE_URL",
    "article_schema": "BLOG_ARTICLE_SCHEMA",
    "google_site_verification": "BLOG_GOOGLE_SITE_VERIFICATION",
    "naver_site_verification": "BLOG_NAVER_SITE_VERIFICATION",
    "bing_site_verification": "BLOG_BING_SITE_VERIFICATION",
}

# Codes search engines ask a site to show to prove it is the owner's: setting -> meta name.
VERIFICATION_SETTINGS = {
    "google_site_verification": "google-site-verification",
    "naver_site_verification": "naver-site-verification",
    "bing_site_verification": "msvalidate.01",
}
# The schema.org types an article may be published as (JSON-LD).
ARTICLE_SCHEMAS = ("NewsArticle", "BlogPosting")


def site_settings() -> dict[str, Any]:
    """All settings, as of the start of this request. Read from the database once per
    public change, not per request: settings are public, so saving one moves the counter."""
    if "site_settings" not in g:
        try:
            g.site_settings = changes.kept_per_change("site_settings", _read_settings)
        except OperationalError:
            # Error pages must render even when the database cannot be read.
            db.session.rollback()
            return _defaults()
    return g.site_settings  # type: ignore[no-any-return]


def _defaults() -> dict[str, Any]:
    return {name: current_app.config[key] for name, key in DEFAULTS.items()}


def _read_settings(_now: datetime | None = None) -> dict[str, Any]:
    values = _defaults()
    values.update({row.key: row.value for row in db.session.execute(select(Setting)).scalars()})
    return values


def set_setting(key: str, value: Any) -> None:
    """Store one setting, inside `writing()`."""
    upsert(db.session, Setting, {"key": key, "value": value}, unique=["key"])
    # Read again, in this request and every other (the commit moves the counter too;
    # until then, this transaction is the only one that sees the new value).
    g.pop("site_settings", None)
    changes.forget_kept("site_settings")


def site_zone() -> ZoneInfo:
    return ZoneInfo(site_settings()["timezone"])
