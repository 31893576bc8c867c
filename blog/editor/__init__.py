"""The editor under /admin/: post list, writing form, preview, autosave, revisions, media."""

from flask import Blueprint

bp = Blueprint("editor", __name__, url_prefix="/admin")

from . import views  # noqa: E402,F401 - registers the routes
