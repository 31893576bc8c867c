"""Template globals and filters: site settings, dates in the site's time zone."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel.dates import format_date, format_skeleton
from flask import Flask
from flask_babel import get_locale
from flask_login import current_user

from . import clock
from .content.labels import action_label, audit_details, note_label, status_label
from .content.link_previews import json_script, og_locale
from .content.permissions import can_edit, can_restore
from .content.posts import post_path
from .content.review import waiting_count
from .content.settings import site_settings, site_zone
from .content.taxonomy import header_categories
from .content.urls import image_url_problem
from .models import Role
from .security import public_url


def local_date(moment: datetime | None, fmt: str = "%Y-%m-%d") -> str:
    """A UTC moment shown in the site's time zone."""
    return moment.astimezone(site_zone()).strftime(fmt) if moment else ""


def long_date(moment: datetime | None) -> str:
    """The day of a UTC moment in the site's time zone, written as the page's language
    writes dates: 2024년 7월 22일, July 22, 2024 (CLDR's long date, through Babel)."""
    if moment is None:
        return ""
    return format_date(moment.astimezone(site_zone()).date(), "long", locale=_locale())


def month_name(year: int, month: int) -> str:
    """A month as the page's language names it: 2024년 7월, July 2024."""
    return format_skeleton("yMMMM", date(year, month, 1), locale=_locale())


def _locale() -> str:
    return str(get_locale() or "en")


def iso_datetime(moment: datetime | None) -> str:
    return moment.astimezone(site_zone()).isoformat(timespec="minutes") if moment else ""


# Paths on this site that hold images. A feature image elsewhere on the site is one an
# import could not find (its `/assets/...` path was kept): shown, it would be a broken image.
_IMAGE_PATHS = ("/media/", "/static/")


def image_url(url: str | None) -> str:
    """A feature image URL fit for `<img src>`, or "" (older rows may predate the check,
    and an image an import could not store is left out rather than shown broken)."""
    if not url or image_url_problem(url) is not None:
        return ""
    return url if url.startswith(_IMAGE_PATHS) or not url.startswith("/") else ""


def review_waiting() -> int:
    """Posts waiting for the signed-in editor's review (0 for other roles)."""
    return waiting_count(current_user) if current_user.is_authenticated else 0


def register(app: Flask) -> None:
    app.jinja_env.filters["image_url"] = image_url
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.globals["month_name"] = month_name
    app.jinja_env.filters["iso_datetime"] = iso_datetime
    app.jinja_env.filters["og_locale"] = og_locale
    app.jinja_env.filters["json_script"] = json_script
    app.jinja_env.globals["post_path"] = post_path
    app.jinja_env.globals["public_url"] = public_url
    app.jinja_env.globals["current_locale"] = _locale
    app.jinja_env.globals["Role"] = Role
    app.jinja_env.globals["now"] = clock.now
    app.jinja_env.globals["can_edit"] = can_edit
    app.jinja_env.globals["can_restore"] = can_restore
    app.jinja_env.globals["status_label"] = status_label
    app.jinja_env.globals["note_label"] = note_label
    app.jinja_env.globals["action_label"] = action_label
    app.jinja_env.globals["audit_details"] = audit_details
    app.jinja_env.globals["review_waiting"] = review_waiting
    app.jinja_env.globals["header_categories"] = header_categories

    @app.context_processor
    def _site() -> dict[str, Any]:
        return {"site": site_settings()}
