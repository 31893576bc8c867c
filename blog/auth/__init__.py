"""Accounts, roles and sessions: login, users, password resets, site settings, audit log."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401 - registers the routes
