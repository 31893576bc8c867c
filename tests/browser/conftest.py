"""Browser-test helpers (the Chromium fixture itself lives in tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from blog.auth.accounts import create_user
from blog.database import writing
from blog.models import Role
from tests.conftest import PASSWORD

SCREENSHOTS = Path(__file__).parents[2] / "test-output" / "screenshots"

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, BrowserContext, Page  # noqa: E402


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


@pytest.fixture
def csp_context(browser: Browser) -> Iterator[BrowserContext]:
    """A laptop-sized context that keeps every CSP violation its pages meet, in
    window.cspViolations (the init script runs before the page's own scripts)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    yield context
    context.close()


@pytest.fixture
def editor_user(app: Flask) -> None:
    """An editor, kim (김기자), who signs in with tests.conftest.PASSWORD."""
    with app.app_context(), writing():
        create_user("kim", PASSWORD, Role.EDITOR, display_name="김기자")
