"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from .content.settings import site_settings

# No inline script anywhere: htmx and our code load from /static. Inline style attributes
# (authors' colours) are allowed; style elements are not.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' https: data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


PRIVATE_PREFIXES = ("/admin", "/login", "/account", "/reset")


# What the blog's forms send (htmx too). A JSON body would reach Flask-WTF's forms as
# numbers, lists and objects where every view expects text.
FORM_BODIES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _refuse_other_bodies() -> None:
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    if request.mimetype and request.mimetype not in FORM_BODIES:
        abort(415)


def public_url(path: str) -> str:
    """The absolute URL of a path on the blog: from the base URL setting, else
    BLOG_BASE_URL, else the request's host, which TRUSTED_HOSTS has already checked (see
    config.py). An empty setting never falls back to the Host header while BLOG_BASE_URL is
    set: any host is accepted then, and a page would carry whatever a request named."""
    base = (
        site_settings().get("base_url")
        or current_app.config.get("BLOG_BASE_URL")
        or request.host_url
    )
    return base.rstrip("/") + path


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault(
        "Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    )
    # Pages behind a login must never be kept by a browser or proxy cache.
    if request.path.startswith(PRIVATE_PREFIXES):
        headers["Cache-Control"] = "no-store"
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


class SessionCookies(SecureCookieSessionInterface):
    """Session cookies marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        configured = bool(app.config["SESSION_COOKIE_SECURE"])
        return configured or (has_request_context() and request.is_secure)


def register(app: Flask) -> None:
    app.before_request(_refuse_other_bodies)
    app.after_request(_add_headers)
    app.session_interface = SessionCookies()
    if app.config.get("TRUST_PROXY_HEADERS"):
        # Behind nginx/Caddy: believe one proxy's X-Forwarded-For/-Proto/-Host.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
