"""Static files: named by a hash of their content and cached for a year under that name; the
plain name still answers, revalidated each time."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from blog.page_cache import PageCache
from tests.conftest import Login

ROOT = Path(__file__).parents[1]
STATIC = ROOT / "static"
IMMUTABLE = "public, max-age=31536000, immutable"


def static_links(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def digest(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:8]


def test_pages_name_static_files_by_their_content_hash(client: FlaskClient) -> None:
    links = static_links(client.get("/").text)
    assert f"/static/css/blog.{digest('css/blog.css')}.css" in links
    htmx = digest("vendor/htmx-2.0.11.min.js")
    assert f"/static/vendor/htmx-2.0.11.min.{htmx}.js" in links
    assert f"/static/favicon.{digest('favicon.png')}.png" in links


def test_admin_pages_name_their_static_files_by_hash_too(client: FlaskClient, login: Login) -> None:
    login("editor")
    links = static_links(client.get("/admin/posts/new").text)
    links += static_links(client.get("/admin/taxonomy").text)
    for name in ("css/admin.css", "js/editor.js", "css/taxonomy.css"):
        stem, suffix = name.rsplit(".", 1)
        assert f"/static/{stem}.{digest(name)}.{suffix}" in links, name


def test_templates_name_static_files_only_through_static_url() -> None:
    templates = [path.read_text() for path in (ROOT / "templates").rglob("*.html")]
    assert not [text for text in templates if "url_for('static'" in text]
    named = {name for text in templates for name in re.findall(r"static_url\('([^']+)'\)", text)}
    assert named and all((STATIC / name).is_file() for name in named), named


def test_a_hashed_name_is_the_file_cached_for_a_year(client: FlaskClient) -> None:
    for link in static_links(client.get("/").text):
        answer = client.get(link)
        plain = re.sub(r"\.[0-9a-f]{8}(\.\w+)$", r"\1", link.removeprefix("/static/"))
        assert answer.status_code == 200 and answer.data == (STATIC / plain).read_bytes()
        assert answer.headers["Cache-Control"] == IMMUTABLE, link


def test_the_plain_name_still_answers_revalidated_by_its_etag(client: FlaskClient) -> None:
    answer = client.get("/static/css/blog.css")
    assert answer.status_code == 200 and answer.data == (STATIC / "css/blog.css").read_bytes()
    assert answer.headers["Cache-Control"] == "no-cache" and answer.headers["ETag"]
    again = client.get("/static/css/blog.css", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    # The vendored htmx's README names the file by its own name.
    assert client.get("/static/vendor/htmx-2.0.11.min.js").status_code == 200


def test_an_old_hash_leads_to_the_current_file_and_unknown_names_are_404(
    client: FlaskClient,
) -> None:
    current = f"/static/css/blog.{digest('css/blog.css')}.css"
    old = client.get("/static/css/blog.0badc0de.css")
    assert old.status_code == 302 and old.headers["Location"] == current
    assert "immutable" not in old.headers.get("Cache-Control", "")
    assert client.get("/static/css/nothing.0badc0de.css").status_code == 404
    assert client.get("/static/css/nothing.css").status_code == 404
    assert client.get("/static/../blog/__init__.py").status_code == 404


def test_static_files_come_from_the_page_cache_for_signed_in_readers_too(
    app: Flask, client: FlaskClient, login: Login
) -> None:
    login("editor")
    cache = app.wsgi_app
    assert isinstance(cache, PageCache)
    link = f"/static/css/blog.{digest('css/blog.css')}.css"
    client.get(link)
    hits = cache.hits
    answer = client.get(link)
    assert cache.hits == hits + 1 and answer.headers["Cache-Control"] == IMMUTABLE
    assert "Set-Cookie" not in answer.headers


def test_names_that_only_look_hashed_are_not_taken_apart_wrongly(client: FlaskClient) -> None:
    for path in ("/static/.0badc0de", "/static/.0badc0de.css", "/static/css/.0badc0de.css",
                 "/static/css/blog.0BADC0DE.css", "/static/css/blog.0badc0d.css"):  # fmt: skip
        assert client.get(path).status_code == 404, path
