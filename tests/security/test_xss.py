"""Author content cannot run code: every vector, saved by a contributor as Markdown and as
HTML, comes out inert, checked by parsing the served page and by loading it in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Route
from sqlalchemy import update

from blog import create_app
from blog.auth.accounts import create_user
from blog.content.sanitize import sanitize_html
from blog.database import writing
from blog.extensions import db
from blog.models import Post, Role
from tests.conftest import PASSWORD, MakePost, post_form, serving, token_from
from tests.security.inert import problems
from tests.security.vectors import VECTORS


@dataclass
class SavedVector:
    kind: str
    text: str
    source_format: str
    path: str


@dataclass
class Corpus:
    app: Flask
    saved: list[SavedVector]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    """A blog holding every vector twice, saved through the editor by a contributor."""
    root = tmp_path_factory.mktemp("xss")
    database = f"sqlite:///{root / 'blog.sqlite3'}"
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "xss", "SQLALCHEMY_DATABASE_URI": database,
         "BLOG_LANGUAGE": "en", "POSTS_PER_PAGE": 50},
        instance_path=str(root / "instance"),
    )  # fmt: skip
    with app.app_context(), writing():
        db.create_all()
        create_user("contributor", PASSWORD, Role.CONTRIBUTOR)
    client = app.test_client()
    token = token_from(client.get("/login").text)
    client.post("/login", data={"login": "contributor", "password": PASSWORD, "csrf_token": token})
    client.csrf_token = token_from(client.get("/admin/posts/new").text)  # type: ignore[attr-defined]
    saved: list[SavedVector] = []
    for number, (kind, text) in enumerate(VECTORS):
        for source_format in ("markdown", "html"):
            response = post_form(
                client,
                "/admin/posts/new",
                {"title": f"Vector {number} {source_format}", "body": text, "format": source_format,
                 "excerpt": text, "feature_text": text, "status": "draft", "version": ""},
            )  # fmt: skip
            assert response.status_code == 303, (kind, text, response.status_code)
            post_id = int(response.headers["Location"].split("/")[3])
            saved.append(
                SavedVector(kind, text, source_format, f"/posts/vector-{number}-{source_format}")
            )
            assert post_id
    with app.app_context(), writing():
        # An editor publishes them: publishing changes the status, not the stored HTML.
        db.session.execute(
            update(Post).values(status="published", published_at=datetime(2024, 1, 1, tzinfo=UTC))
        )
    yield Corpus(app, saved)


def test_the_corpus_is_large_and_covers_every_class(corpus: Corpus) -> None:
    kinds = {vector.kind for vector in corpus.saved}
    assert len(VECTORS) >= 200 and len(corpus.saved) == 2 * len(VECTORS)
    assert kinds == {"event handler", "dangerous URL", "CSS", "HTML structure and mutation",
                     "SVG and MathML", "forms, meta, base, frames, clobbering", "htmx attributes",
                     "Markdown syntax", "encoding and obfuscation"}  # fmt: skip


def test_every_served_article_is_inert(corpus: Corpus) -> None:
    client = corpus.app.test_client()
    failures = []
    for vector in corpus.saved:
        response = client.get(vector.path)
        assert response.status_code == 200, vector.path
        found = problems(response.text)
        if found:
            failures.append((vector.kind, vector.source_format, vector.text, found))
    assert failures == []


def test_list_pages_showing_the_excerpts_are_inert(corpus: Corpus) -> None:
    client = corpus.app.test_client()
    page, failures = 1, []
    while True:
        response = client.get(f"/?page={page}")
        if response.status_code == 404:
            break
        failures += problems(response.text)
        page += 1
    assert page > 2 and failures == []


def test_sanitising_twice_changes_nothing_for_any_vector() -> None:
    for _kind, text in VECTORS:
        once = sanitize_html(text)
        assert sanitize_html(once) == once, text


# -- in a real browser -------------------------------------------------------------------


def browser_incidents(browser: Browser, app: Flask, pages: list[tuple[str, str]]) -> list[str]:
    """Load each (label, path) in Chromium; report dialogs, script errors (CSP included)
    and any request that leaves the blog."""

    incidents: list[str] = []
    current = {"label": ""}

    def on_dialog(dialog: Dialog) -> None:
        incidents.append(f"dialog {dialog.message!r} from {current['label']!r}")
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        # A missing local image is no attack; a blocked script or style is (CSP reports it).
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            incidents.append(f"console error {message.text!r} from {current['label']!r}")

    def on_route(route: Route) -> None:
        if urlsplit(route.request.url).hostname != "127.0.0.1":
            incidents.append(f"request to {route.request.url} from {current['label']!r}")
            route.abort()
        else:
            route.continue_()

    page = browser.new_page()
    with serving(app) as base:
        try:
            page.on("dialog", on_dialog)
            page.on("console", on_console)
            page.on("pageerror", lambda e: incidents.append(f"error {e} from {current['label']!r}"))
            page.route("**/*", on_route)
            for label, path in pages:
                current["label"] = label
                page.goto(base + path, wait_until="load")
                page.mouse.move(300, 300)  # hover handlers, had any survived
                page.keyboard.press("Tab")
        finally:
            page.close()
    return incidents


@pytest.mark.browser
def test_no_vector_runs_script_or_calls_another_host_in_chromium(
    browser: Browser, corpus: Corpus
) -> None:
    pages = [(f"{v.source_format}: {v.text}", v.path) for v in corpus.saved]
    assert browser_incidents(browser, corpus.app, pages) == []


@pytest.mark.browser
def test_the_browser_check_notices_an_attack_that_skipped_the_sanitiser(
    browser: Browser, app: Flask, make_post: MakePost
) -> None:
    """Control: with the sanitiser bypassed, the same harness reports what happens."""
    slug = make_post(title="Raw")
    with app.app_context(), writing():
        raw = '<img src=x onerror=alert(1)><img src="https://evil.example/t.png">'
        db.session.execute(update(Post).where(Post.slug == slug).values(body_html=raw))
    incidents = browser_incidents(browser, app, [("raw", f"/posts/{slug}")])
    assert any("inline event handler" in incident for incident in incidents), incidents
    assert any("evil.example" in incident for incident in incidents), incidents


def test_the_page_check_notices_raw_attacks() -> None:
    """Control: the inertness check flags dangerous HTML that skipped the sanitiser."""
    raw = (
        '<img src=x onerror=alert(1)><a href="jav&#x09;ascript:alert(1)">x</a>'
        '<div hx-get="/x"></div><img srcset="x 1x, javascript:alert(1) 2x">'
    )
    found = problems(f'<div class="post-body" hx-disable>{raw}</div>')
    assert len(found) == 4, found
