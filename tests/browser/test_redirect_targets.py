"""Chromium's own URL parser agrees with local_path(): what we let through stays on the site,
and every spelling we refuse is one a browser would (or could) take elsewhere."""

from __future__ import annotations

from playwright.sync_api import Page

from blog.content.urls import local_path
from tests.security.redirect_spellings import ELSEWHERE, LOCAL

BASE = "http://blog.test/admin/"


def _hosts_in_chromium(page: Page, targets: list[str]) -> list[str | None]:
    page.goto("about:blank")
    return page.evaluate(
        """([targets, base]) => targets.map(t => {
            try { return new URL(t, base).host } catch (e) { return null }
        })""",
        [targets, BASE],
    )


def test_what_local_path_accepts_stays_on_the_site_in_chromium(page: Page) -> None:
    accepted = [t for t in ELSEWHERE + LOCAL if local_path(t) is not None]
    assert accepted == LOCAL
    assert _hosts_in_chromium(page, accepted) == ["blog.test"] * len(accepted)


def test_chromium_really_leaves_the_site_for_the_classic_spellings(page: Page) -> None:
    # The spellings the review found: a browser goes to evil.example for each of them.
    found = ["/\t/evil.example", "/\\evil.example", "//evil.example", " //evil.example",
             "/\n/evil.example", "\\\\evil.example"]  # fmt: skip
    assert _hosts_in_chromium(page, found) == ["evil.example"] * len(found)
    assert all(local_path(target) is None for target in found)
