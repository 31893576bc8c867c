"""Public pages: the post list, articles, categories and tags, media files."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from . import feeds, sitemaps, views  # noqa: E402,F401 - registers the routes
