"""Friendly error pages; a 404 first checks whether the path is an old URL of a post."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge, SecurityError
from werkzeug.wrappers import Response

from . import clock
from .content.posts import post_path
from .content.redirects import find_redirect
from .content.urls import local_path
from .database import is_storage_full
from .extensions import db, login_manager
from .htmx import is_fragment_request, render


def _error_page(code: int, **context: object) -> Response:
    """The error page; inside the admin layout for a signed-in user on an /admin path."""
    in_admin = request.path == "/admin" or request.path.startswith("/admin/")
    admin_layout = in_admin and current_user.is_authenticated
    return render("errors/error.html", status=code, code=code, admin_layout=admin_layout, **context)


def _not_found(error: NotFound) -> Response:
    # Checked only on a miss, so ordinary pages pay nothing for old-URL support.
    if request.method in {"GET", "HEAD"}:
        post = find_redirect(request.path)
        if post is not None and post.is_public(clock.now()):
            return redirect(post_path(post.slug), code=301)
    return _error_page(404)


def _untrusted_host(error: SecurityError) -> Response:
    # No URL can be built for a host we do not serve, so no page template either.
    return Response(
        "400 Bad Request: this blog does not answer to that host name "
        "(set BLOG_BASE_URL or TRUSTED_HOSTS).\n",
        status=400,
        mimetype="text/plain",
    )


def _too_large(error: RequestEntityTooLarge) -> Response:
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    reason = _(
        "A request can be at most %(mb)s MB; a post at most %(chars)s characters, an image "
        "at most %(image)s MB.",
        mb=limit, chars=f"{current_app.config['MAX_POST_CHARS']:,}",
        image=current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024),
    )  # fmt: skip
    return _error_page(413, reason=reason)


def _http_error(error: HTTPException) -> Response:
    return _error_page(error.code or 500)


def _server_error(error: Exception) -> Response:
    # The failed request's transaction may be unusable; the error page needs a clean one.
    db.session.rollback()
    return _error_page(500)


def _page_to_return_to() -> str | None:
    """The page the failed form was sent from (this site's only), else the request's own path."""
    referrer = urlsplit(request.referrer or "")
    if referrer.path and referrer.netloc in ("", request.host):
        path = referrer.path + (f"?{referrer.query}" if referrer.query else "")
        if local_path(path):
            return path
    return local_path(request.full_path.rstrip("?"))


def _csrf_error(error: CSRFError) -> Response:
    """The form's token no longer matches a session: say so plainly and hand the text back.

    Flask-WTF's own descriptions are English and technical, so they are never shown.
    """
    if is_fragment_request():
        # Autosave: a short sentence that editor.js puts in the save status.
        message = _(
            "Not kept: your sign-in ended or the page was open too long. Copy your text "
            "before leaving this page."
        )
        response = Response(message, status=400, mimetype="text/plain")
        response.vary.add("HX-Request")
        return response
    kept = [
        (name, label, request.form.get(name, ""))
        for name, label in (("title", _("Title")), ("excerpt", _("Excerpt")), ("body", _("Body")))
        if request.form.get(name, "").strip()
    ]
    return render("errors/csrf.html", status=400, kept=kept, next_path=_page_to_return_to())


def _database_error(error: OperationalError) -> Response:
    """The database could not take a write (busy past the timeout, or full).

    Nothing was saved. A form submission comes back as a form holding everything the
    user sent, ready to submit again; the page itself needs no database.
    """
    db.session.rollback()
    current_app.logger.warning("database refused a request: %s", error)
    # Templates receive current_user; loading it would hit the same refusing database.
    g.setdefault("_login_user", login_manager.anonymous_user())
    if request.method == "POST" and request.form and not is_fragment_request():
        return render(
            "errors/database.html", status=503, full=is_storage_full(error), fields=request.form
        )
    return render("errors/error.html", status=503, code=503)


def register(app: Flask) -> None:
    app.register_error_handler(OperationalError, _database_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(SecurityError, _untrusted_host)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)
