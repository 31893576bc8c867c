"""Hostile values in every field of every form, and in every route's path and query.

The forms are read from the rendered pages (not listed by hand), so a form added later
is covered too. Each field is broken in turn while the others carry a marker text: the
answer is never a 5xx, and when the form comes back (422, 409) the marker is in it, so
nothing typed is lost.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from blog.content.media import upload_image
from blog.database import writing
from blog.extensions import db
from blog.models import Category, Post
from blog.schema_state import head_revision
from tests.conftest import PASSWORD, Login, MakePost, token_from
from tests.test_schema_state import stamp

MARKER = "원고 보존 keep-me"
HOSTILE: dict[str, str | bytes] = {
    "unknown choice": "evil",
    "wrong type": "abc",
    "out-of-range date": "0001-01-01T00:00",
    "far-future date": "9999-12-31T23:59",
    "1 MB": "가" * 350_000,
    "NUL bytes": "nul\x00value",
    "right-to-left marks": "\u202eabc\u200f\u2067x",
    "lone surrogate": b"%ED%A0%80a%ED%B0%80",  # sent raw: it is not encodable as UTF-8
    "huge number": "99999999999999999999",
    "negative": "-1",
}


@dataclass
class HtmlForm:
    page: str
    action: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (name, kind, value)
    choices: dict[str, list[str]] = field(default_factory=dict)

    def text_fields(self) -> list[str]:
        return [name for name, kind, _ in self.fields if kind in {"text", "textarea", "email"}]


class _FormReader(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[HtmlForm] = []
        self.by_id: dict[str, HtmlForm] = {}
        self.current: HtmlForm | None = None
        self.select: str | None = None
        self.textarea: str | None = None
        self.outside: list[tuple[str, dict[str, str]]] = []  # inputs with form="id"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self.current = HtmlForm(self.page, a.get("action") or self.page)
            self.forms.append(self.current)
            if a.get("id"):
                self.by_id[a["id"]] = self.current
            return
        owner = self.by_id.get(a.get("form", "")) if a.get("form") else self.current
        if owner is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                owner.choices.setdefault(name, []).append(a.get("value", "on"))
                return
            owner.fields.append((name, kind, a.get("value", "")))
        elif tag == "button" and a.get("value"):
            owner.fields.append((name, "button", a["value"]))
        elif tag == "textarea":
            owner.fields.append((name, "textarea", ""))
            self.textarea = name
        elif tag == "select":
            self.select = name
            owner.fields.append((name, "select", ""))
        elif tag == "option" and self.select:
            owner.choices.setdefault(self.select, []).append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def read_forms(client: FlaskClient, page: str) -> list[HtmlForm]:
    response = client.get(page)
    assert response.status_code == 200, page
    reader = _FormReader(page)
    reader.feed(response.text)
    return reader.forms


def encode(pairs: list[tuple[str, str | bytes]]) -> bytes:
    parts = []
    for name, value in pairs:
        encoded = value if isinstance(value, bytes) else quote(value, safe="").encode()
        parts.append(quote(name, safe="").encode() + b"=" + encoded)
    return b"&".join(parts)


# Forms that end the session or wipe what later forms need: submitted last, once each.
ENDS_THE_SESSION = ("/logout", "/account/sign-out-everywhere", "/sign-out")


@pytest.fixture
def newsroom(app: Flask, login: Login, make_post: MakePost) -> dict[str, Any]:
    admin_id = login("admin")
    # Two tags: the taxonomy page shows its merge form.
    make_post(title="Published one", slug="published-one", categories=("News",),
              tags=("속보", "🔥"))  # fmt: skip
    make_post(title="A draft", slug="a-draft", status="draft")
    make_post(title="Waiting", slug="waiting", status="pending")  # the send-back form
    trashed = make_post(title="Trashed", slug="trashed")
    with app.app_context(), writing():
        post = db.session.execute(db.select(Post).where(Post.slug == trashed)).scalar_one()
        post.deleted_at = datetime(2024, 5, 1, tzinfo=UTC)
        category_id = db.session.execute(db.select(Category.id)).scalar_one()
        post_id = db.session.execute(
            db.select(Post.id).where(Post.slug == "published-one")
        ).scalar_one()
        pending_id = db.session.scalars(db.select(Post.id).where(Post.slug == "waiting")).one()
    with app.app_context():  # a file in the library: the media page shows its forms
        picture = io.BytesIO()
        Image.new("RGB", (8, 8), (200, 40, 40)).save(picture, "PNG")
        upload_image(picture.getvalue(), "사진.png", admin_id, 1024 * 1024)
    return {"admin_id": admin_id, "post_id": post_id, "category_id": category_id,
            "pending_id": pending_id}  # fmt: skip


def _signed_in(client: FlaskClient, username: str) -> None:
    if client.get("/account").status_code != 200:
        token = token_from(client.get("/login").text)
        client.post("/login", data={"login": username, "password": PASSWORD, "csrf_token": token})


def _submit(client: FlaskClient, form: HtmlForm, broken: str | None, value: str | bytes | None,
            htmx: bool = False) -> Any:  # fmt: skip
    pairs: list[tuple[str, str | bytes]] = []
    for name, kind, default in form.fields:
        if name == broken:
            if value is not None:
                pairs.append((name, value))
            continue
        if name == "csrf_token":
            pairs.append((name, default))  # one token per session, valid for every form
        elif kind in {"text", "textarea", "email"} and name not in {"version", "post_id"}:
            pairs.append((name, f"{MARKER} {name}" if name != "email" else "keep@example.kr"))
        else:
            pairs.append((name, default))
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        form.action,
        data=encode(pairs),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


def _check(response: Any, form: HtmlForm, broken: str | None, kind: str) -> None:
    where = f"{form.page} -> {form.action} field {broken!r} ({kind})"
    assert response.status_code < 500, f"{where}: {response.status_code}"
    if response.status_code in {409, 422}:
        for name in form.text_fields():
            if name not in {broken, "password", "version", "post_id"} and name != "email":
                assert f"{MARKER} {name}" in response.text, f"{where}: lost {name!r}"


def _hostile_walk(client: FlaskClient, pages: list[str], username: str) -> int:
    forms = [form for page in pages for form in read_forms(client, page)]
    forms.sort(key=lambda f: f.action.endswith(ENDS_THE_SESSION))
    submissions = 0
    for form in forms:
        _signed_in(client, username)
        names = {name for name, _, _ in form.fields} - {"csrf_token"}
        for name in sorted(names):
            for kind, value in [*HOSTILE.items(), ("missing", None)]:
                _signed_in(client, username)
                _check(_submit(client, form, name, value), form, name, kind)
                submissions += 1
        _check(_submit(client, form, None, None, htmx=True), form, None, "htmx")
    return submissions


def test_every_admin_form_survives_every_hostile_field(
    client: FlaskClient, newsroom: dict[str, Any]
) -> None:
    post_id = newsroom["post_id"]
    pages = ["/account", "/admin/users", "/admin/settings", "/admin/posts/new",
             f"/admin/posts/{post_id}/edit", f"/admin/posts/{post_id}/revisions",
             f"/admin/posts/{newsroom['pending_id']}/edit",
             "/admin/media", "/admin/taxonomy", "/admin/trash", "/admin/"]  # fmt: skip
    assert _hostile_walk(client, pages, "admin") > 300


def test_every_contributor_form_survives_every_hostile_field(
    app: Flask, login: Login, make_post: MakePost
) -> None:
    browser = app.test_client()
    login("contributor", browser=browser)
    pages = ["/account", "/admin/posts/new", "/admin/media", "/admin/"]
    assert _hostile_walk(browser, pages, "contributor") > 100


def test_sign_in_and_reset_forms_survive_every_hostile_field(
    app: Flask, client: FlaskClient, newsroom: dict[str, Any]
) -> None:
    anonymous = app.test_client()
    for form in read_forms(anonymous, "/login"):
        for name in {n for n, _, _ in form.fields} - {"csrf_token"}:
            for kind, value in HOSTILE.items():
                _check(_submit(anonymous, form, name, value), form, name, kind)


def test_htmx_editor_endpoints_survive_every_hostile_field(
    client: FlaskClient, newsroom: dict[str, Any]
) -> None:
    [editor_form] = [f for f in read_forms(client, "/admin/posts/new") if "posts/new" in f.action]
    for endpoint in ("/admin/posts/new/autosave", "/admin/posts/validate", "/admin/preview"):
        form = HtmlForm(editor_form.page, endpoint, editor_form.fields, editor_form.choices)
        for name in sorted({n for n, _, _ in form.fields} - {"csrf_token"}):
            for kind, value in HOSTILE.items():
                response = _submit(client, form, name, value, htmx=True)
                assert response.status_code < 500, (endpoint, name, kind)


PATH_VALUES = ["0", "-1", "99999999999999999999", "abc", "%00", "..%2F..%2Fetc%2Fpasswd",
               "%ED%95%9C", "a" * 3000, "%ED%A0%80", "%20", "new%0a", "1.5"]  # fmt: skip
QUERY_VALUES = ["", "-1", "99999999999999999999", "abc", "%00", "%ED%A0%80", "a" * 5000,
                "//evil.example"]  # fmt: skip
QUERY_NAMES = ["page", "status", "author", "category", "q", "a", "b", "post_id", "slug",
               "title", "next", "restore"]  # fmt: skip


def _hostile_urls(app: Flask) -> list[tuple[str, str]]:
    urls: list[tuple[str, str]] = []
    for rule in app.url_map.iter_rules():
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        if rule.endpoint == "static" or "logout" in rule.rule or "sign-out" in rule.rule:
            continue
        for value in PATH_VALUES if rule.arguments else []:
            url = rule.rule
            for argument in rule.arguments:
                for spelling in (f"<{argument}>", *(f"<{c}:{argument}>" for c in CONVERTERS)):
                    url = url.replace(spelling, value)
            urls.extend((method, url) for method in methods)
        if "GET" not in methods:
            continue  # the other routes read their form, tested above
        plain = {a: PLAIN_VALUES.get(a, "1" if a.endswith("id") else "x")
                 for a in rule.arguments}  # fmt: skip
        base = rule.build(plain)[1]  # type: ignore[index]
        urls.extend(("GET", f"{base}?{name}={value}") for name in QUERY_NAMES
                    for value in QUERY_VALUES)  # fmt: skip
    return urls


CONVERTERS = ("int", "path", "post_key", "string", "any(category, tag)", "any(atom, rss)",
              "int(fixed_digits=4)", "int(fixed_digits=2)")  # fmt: skip
# Plain values for arguments whose converter refuses "x" (feeds, sitemap parts, archives).
PLAIN_VALUES = {"post_key": "new", "feed_format": "atom", "number": "1", "year": "2024",
                "month": "07"}  # fmt: skip


def test_every_route_survives_hostile_path_and_query_values(
    app: Flask, client: FlaskClient, newsroom: dict[str, Any]
) -> None:
    stamp(app, head_revision())  # /healthz answers 503 for a database Alembic has not marked
    token = token_from(client.get("/account").text)
    urls = _hostile_urls(app)
    assert len(urls) > 500
    for method, url in urls:
        if method == "GET":
            response = client.get(url)
            # Fragments are other code paths: ask for them too where the path is hostile.
            if "?" not in url:
                htmx = client.get(url, headers={"HX-Request": "true"})
                assert htmx.status_code < 500, (method, url[:120], htmx.status_code)
        else:
            response = client.post(url, data=urlencode({"csrf_token": token}),
                                   content_type="application/x-www-form-urlencoded")  # fmt: skip
        assert response.status_code < 500, (method, url[:120], response.status_code)
    assert client.get("/account").status_code == 200  # still signed in: the walk was real
