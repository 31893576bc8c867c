"""The editor under /admin/: post list, writing form, preview, autosave, revisions, media,
categories and tags."""

from flask import Blueprint

bp = Blueprint("editor", __name__, url_prefix="/admin")

from . import media, taxonomy, views  # noqa: E402,F401 - register the routes
