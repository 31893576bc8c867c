"""Security headers on every response and the htmx configuration pages carry."""

from __future__ import annotations

import json
import re

from flask.testing import FlaskClient


def test_security_headers_on_pages_and_errors(client: FlaskClient) -> None:
    for path in ("/", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert (
            "script-src 'self'" in csp and "unsafe-inline' " not in csp.split("script-src")[1][:30]
        )
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert headers["X-Frame-Options"] == "DENY"
        assert "Permissions-Policy" in headers
        assert "Strict-Transport-Security" not in headers


def test_hsts_only_over_https(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_htmx_cannot_evaluate_strings(client: FlaskClient) -> None:
    html = client.get("/").text
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html)[1])  # type: ignore[index]
    assert config["allowEval"] is False and config["allowScriptTags"] is False
    assert config["selfRequestsOnly"] is True
    assert "<script>" not in html  # no inline script anywhere


def test_session_cookie_is_secure_over_https(client: FlaskClient) -> None:
    plain = client.get("/login").headers["Set-Cookie"]
    assert "Secure" not in plain
    secure = client.get("/login", base_url="https://127.0.0.1").headers["Set-Cookie"]
    assert "Secure" in secure and "HttpOnly" in secure


def test_admin_pages_are_never_cached(client: FlaskClient) -> None:
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    assert client.get("/admin/").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
