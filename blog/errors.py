"""Friendly error pages; a 404 first checks whether the path is an old URL of a post."""

from __future__ import annotations

from flask import Flask, redirect, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.wrappers import Response

from . import clock
from .content.posts import post_path, reachable_post
from .content.redirects import find_redirect
from .extensions import db
from .htmx import render


def _not_found(error: NotFound) -> Response:
    # Checked only on a miss, so ordinary pages pay nothing for old-URL support.
    if request.method in {"GET", "HEAD"}:
        post = find_redirect(request.path)
        if post is not None and reachable_post(post.slug, clock.now()) is not None:
            return redirect(post_path(post.slug), code=301)
    return render("errors/error.html", status=404, code=404)


def _http_error(error: HTTPException) -> Response:
    return render("errors/error.html", status=error.code or 500, code=error.code or 500)


def _server_error(error: Exception) -> Response:
    # The failed request's transaction may be unusable; the error page needs a clean one.
    db.session.rollback()
    return render("errors/error.html", status=500, code=500)


def _csrf_error(error: CSRFError) -> Response:
    return render("errors/error.html", status=400, code=400, reason=error.description)


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)
