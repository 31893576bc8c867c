"""Interface language: the user's own choice, else the site's setting."""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy.exc import OperationalError

from .content.settings import site_settings
from .extensions import db

LANGUAGES = {"ko": "한국어", "en": "English"}


def select_locale() -> str:
    try:
        language = getattr(current_user, "language", None) if current_user else None
    except OperationalError:
        # Loading the user needs the database; an error page about the database must not.
        db.session.rollback()
        language = None
    if language in LANGUAGES:
        return language
    site_language = site_settings()["language"]
    return site_language if site_language in LANGUAGES else "en"
