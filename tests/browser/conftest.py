"""Browser-test helpers (the Chromium fixture itself lives in tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from blog.auth.accounts import create_user
from blog.database import writing
from blog.models import Role
from tests.conftest import PASSWORD

SCREENSHOTS = Path(__file__).parents[2] / "test-output" / "screenshots"

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, BrowserContext, Page, expect  # noqa: E402

# What a test waits for (the editor opening, a swap arriving) may take more than Playwright's
# 5 s on a shared machine running the suite in two processes with a browser each; a passing
# wait returns as soon as its condition holds, so this only gives a slow machine time.
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under test-output/ for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# Run before a page's own scripts: every CSP violation the page meets, in window.cspViolations.
WATCH_CSP = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', e =>
  window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""
# And what happened while an IME composed a syllable, in window.ime: the textarea written,
# a preview or an autosave answered.
WATCH_IME = (
    WATCH_CSP
    + """
window.ime = {composing: false, compositions: 0, writes: 0, previews: 0, autosaves: 0};
document.addEventListener('compositionstart', () => {
  ime.composing = true;
  ime.compositions++;
}, true);
document.addEventListener('compositionend', () => { ime.composing = false; }, true);
document.addEventListener('input', e => {
  if (e.target.id === 'body' && ime.composing) ime.writes++;
}, true);
document.addEventListener('htmx:afterRequest', e => {
  if (!ime.composing || !e.detail.successful) return;
  if (e.detail.elt.id === 'preview') ime.previews++;
  if (e.detail.elt.id === 'autosave') ime.autosaves++;
});
"""
)


def watching_context(browser: Browser, watch: str = WATCH_CSP, **options: Any) -> BrowserContext:
    """A laptop-sized context whose pages run `watch` before their own scripts."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, **options)
    context.add_init_script(watch)
    return context


@pytest.fixture
def csp_context(browser: Browser) -> Iterator[BrowserContext]:
    """A laptop-sized context that keeps every CSP violation its pages meet."""
    context = watching_context(browser)
    yield context
    context.close()


@pytest.fixture
def ime_context(browser: Browser) -> Iterator[BrowserContext]:
    """csp_context in Korean, also counting what happens during IME compositions."""
    context = watching_context(browser, WATCH_IME, locale="ko-KR")
    yield context
    context.close()


@pytest.fixture
def editor_user(app: Flask) -> None:
    """An editor, kim (김기자), who signs in with tests.conftest.PASSWORD."""
    with app.app_context(), writing():
        create_user("kim", PASSWORD, Role.EDITOR, display_name="김기자")
