"""axe-core finds no accessibility violation on the pages readers and writers use, in the
light and the dark colour scheme. axe is the pinned npm release vendored in
tests/browser/vendor (frontend/vendor-axe.sh): the tests need no node."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from blog.auth.accounts import create_user
from blog.database import writing
from blog.models import Role
from tests.conftest import PASSWORD
from tests.public.test_article import SEED_SLUG, import_sample

VENDOR = Path(__file__).parent / "vendor"


def _axe_file() -> Path:
    """The vendored axe-core, after checking it against the checksum recorded with it."""
    ((checksum, name),) = (
        line.split() for line in (VENDOR / "SHA256SUMS").read_text().splitlines()
    )
    path = VENDOR / name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == checksum, f"{name} was changed"
    return path


def test_the_vendored_axe_matches_its_recorded_checksum() -> None:
    assert _axe_file().name.startswith("axe-core-4.")


def axe_violations(page: Page) -> list[str]:
    """What axe reports on the page as it is now, one line per rule and element."""
    page.add_script_tag(path=str(_axe_file()))
    result: dict[str, Any] = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        f"{node['target']}: {node.get('failureSummary', '')}"
        for violation in result["violations"]
        for node in violation["nodes"]
    ]


def sign_in(page: Page, base: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("User name or e-mail").fill("kim")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base + "/admin/")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations(
    app: Flask, live_server: str, browser: Browser, scheme: str
) -> None:
    import_sample(app)
    with app.app_context(), writing():
        create_user("kim", PASSWORD, Role.EDITOR, display_name="김기자")
    # bypass_csp: the page's CSP (rightly) refuses the injected axe script, and only that.
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="ko-KR", bypass_csp=True
    )
    page = context.new_page()
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    pages = {
        "home": "/",
        "article": f"/posts/{quote(SEED_SLUG)}",
        "category": "/category/news",
        "search": f"/search?q={quote('대통령실')}",
        "login": "/login",
    }
    found: dict[str, list[str]] = {}
    skipped = []
    try:
        for name, path in pages.items():
            response = page.goto(live_server + path)
            assert response is not None
            if name == "search" and response.status == 404:
                skipped.append("search: /search does not exist on this branch yet")
                continue
            assert response.status == 200, (name, response.status)
            found[name] = axe_violations(page)
        sign_in(page, live_server)
        page.get_by_role("link", name="한·미 동맹 지지 대통령실 초당적 의지 공개!").first.click()
        expect(page.locator("#body")).to_be_visible()
        found["editor"] = axe_violations(page)
        page.goto(live_server + "/admin/posts/new")
        found["new post"] = axe_violations(page)
    finally:
        context.close()
    failures = [f"{name}: {line}" for name, lines in found.items() for line in lines]
    assert not failures, "\n".join(failures)
    if skipped:
        pytest.skip("; ".join(skipped))
