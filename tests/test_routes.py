"""Walk the URL map: every state-changing route refuses a request without a CSRF token, and
every route refuses roles below its minimum (403) and anonymous visitors (login)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Login, post_form, token_from

ROLES = ["contributor", "author", "editor", "admin"]
# endpoint -> the least role that may use it (None: public; "user": any signed-in user)
MINIMUM_ROLE: dict[str, str | None] = {
    "public.index": None, "public.category": None, "public.tag": None, "public.article": None,
    "public.media": None, "public.search": None, "public.feed": None, "public.feed_xml": None,
    "public.category_feed": None, "public.tag_feed": None, "public.sitemap": None,
    "public.sitemap_part": None, "public.news_sitemap_view": None, "public.robots": None,
    "public.archive": None, "public.archive_year": None,
    "public.archive_month": None, "public.categories": None, "public.tags": None,
    "static": None, "health.healthz": None, "auth.login": None, "auth.reset_password": None,
    "auth.logout": None, "auth.account": "user", "auth.sign_out_everywhere": "user",
    "editor.dashboard": "user", "editor.new_post": "user", "editor.edit_post": "user",
    "editor.delete_post": "user", "editor.revisions": "user", "editor.restore": "user",
    "editor.autosave": "user", "editor.discard_autosave": "user", "editor.validate_fields": "user",
    "editor.preview": "user", "editor.editable_html": "user",
    "editor.slug_suggestion": "user", "editor.media": "user",
    "editor.describe_media": "user", "editor.delete_media_file": "user",
    "editor.taxonomy": "editor", "editor.create_term": "editor", "editor.rename_term": "editor",
    "editor.term_slug": "editor", "editor.merge_terms": "editor", "editor.delete_term": "editor",
    "editor.trash": "user", "editor.restore_from_trash": "user",
    "editor.send_back_post": "editor",
    "editor.empty": "admin", "auth.users": "admin", "auth.update_user": "admin",
    "auth.reset_link": "admin", "auth.sign_out_user": "admin", "auth.settings": "admin",
    "auth.audit_log": "admin",
}  # fmt: skip
# What an allowed role gets from an empty request to each role-restricted route: the exact
# status, so a 500 (or a 404 from a wrong argument) cannot pass as "allowed".
ALLOWED_STATUS: dict[tuple[str, str], int] = {
    ("GET", "editor.taxonomy"): 200, ("GET", "editor.trash"): 200,
    ("POST", "editor.restore_from_trash"): 404,  # post 1 is not in the trash
    ("POST", "editor.create_term"): 422,  # no name
    ("POST", "editor.rename_term"): 404, ("POST", "editor.term_slug"): 404,  # no category 1
    ("POST", "editor.delete_term"): 404, ("POST", "editor.merge_terms"): 422,  # nothing chosen
    ("GET", "auth.audit_log"): 200, ("GET", "auth.settings"): 200, ("GET", "auth.users"): 200,
    ("POST", "auth.reset_link"): 200, ("POST", "auth.settings"): 422,
    ("POST", "auth.sign_out_user"): 303, ("POST", "auth.update_user"): 400,
    ("POST", "auth.users"): 422,
    ("POST", "editor.empty"): 200,  # the confirmation page; nothing is deleted yet
    ("POST", "editor.send_back_post"): 303,  # post 1 is not waiting for review
}  # fmt: skip
ARGUMENTS = {"post_id": 1, "revision_id": 1, "post_key": "new", "user_id": 1, "slug": "x",
             "sha256": "0" * 64, "filename": "x.png", "token": "x", "kind": "category",
             "term_id": 1, "media_id": 1, "feed_format": "atom", "number": 1,
             "year": 2024, "month": 7}  # fmt: skip


def routes(app: Flask, method: str) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if method in (rule.methods or set()):
            url = rule.build({k: v for k, v in ARGUMENTS.items() if k in rule.arguments})[1]  # type: ignore[index]
            found.append((rule.endpoint, url))
    return sorted(found)


def test_every_endpoint_has_a_declared_minimum_role(app: Flask) -> None:
    assert {rule.endpoint for rule in app.url_map.iter_rules()} == set(MINIMUM_ROLE)


def test_every_post_route_refuses_a_missing_csrf_token(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("admin")
    for endpoint, url in routes(app, "POST"):
        response = client.post(url, data={"title": "x"})
        assert response.status_code == 400, endpoint
        htmx = client.post(url, data={"title": "x"}, headers={"HX-Request": "true"})
        assert htmx.status_code == 400, endpoint


def test_anonymous_visitors_are_sent_to_the_login(app: Flask, client: FlaskClient) -> None:
    client.csrf_token = token_from(client.get("/login").text)  # type: ignore[attr-defined]
    for method in ("GET", "POST"):
        for endpoint, url in routes(app, method):
            if MINIMUM_ROLE[endpoint] is None:
                continue
            response = client.get(url) if method == "GET" else post_form(client, url)
            assert response.status_code == 302, (method, endpoint)
            assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_refused_below_the_minimum(
    app: Flask, login: Login, role: str, make_post: Any
) -> None:
    make_post(title="Someone's", slug="x")
    browser = app.test_client()
    login(role, browser=browser)
    for method in ("GET", "POST"):
        for endpoint, url in routes(app, method):
            minimum = MINIMUM_ROLE[endpoint]
            if minimum in (None, "user"):
                continue
            response = browser.get(url) if method == "GET" else post_form(browser, url)
            allowed = ROLES.index(role) >= ROLES.index(minimum)
            if allowed:
                expected = ALLOWED_STATUS[(method, endpoint)]
                assert response.status_code == expected, (role, method, endpoint)
            else:
                assert response.status_code == 403, (role, method, endpoint)
