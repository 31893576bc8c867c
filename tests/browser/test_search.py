"""Searching from the header box in Chromium: results as the reader types, and without
JavaScript the same box submits a plain form."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from blog.content.settings import set_setting
from blog.database import writing
from tests.browser.conftest import screenshot
from tests.conftest import MakePost


@pytest.fixture(autouse=True)
def korean_site(app: Flask) -> None:
    with app.app_context(), writing():
        set_setting("language", "ko")


def test_typing_a_korean_word_shows_results_and_keeps_the_url_in_step(
    live_server: str, page: Page, make_post: MakePost
) -> None:
    make_post(title="대통령실 브리핑", source="대통령실은 오늘 입장을 밝혔다.")
    make_post(title="봄 소식", source="여의도에 벚꽃이 피었다.")
    page.goto(live_server + "/")
    box = page.get_by_role("searchbox", name="글 검색")
    box.press_sequentially("통령실", delay=40)
    expect(page).to_have_url(re.compile(re.escape(f"/search?q={quote('통령실')}") + "$"))
    results = page.locator(".search-result")
    expect(results).to_have_count(1)
    expect(results.first.locator("mark").first).to_have_text("통령실")
    expect(box).to_be_focused()  # the header stays; only the main content changed
    box.fill("벚꽃")
    box.dispatch_event("input")
    expect(page.locator(".search-result h2")).to_have_text(["봄 소식"])
    expect(page).to_have_url(re.compile(re.escape(f"q={quote('벚꽃')}") + "$"))
    screenshot(page, "search-desktop")
    page.go_back()
    expect(page).to_have_url(re.compile(re.escape(f"q={quote('통령실')}") + "$"))
    expect(page.locator(".search-result h2")).to_have_text(["대통령실 브리핑"])


def test_the_search_box_works_without_javascript(
    live_server: str, browser: Browser, make_post: MakePost
) -> None:
    make_post(title="봄 소식", source="여의도에 벚꽃이 피었다.")
    context = browser.new_context(java_script_enabled=False, locale="ko-KR")
    page = context.new_page()
    page.goto(live_server + "/")
    page.get_by_role("searchbox", name="글 검색").fill("벚꽃")
    page.get_by_role("button", name="검색").click()
    expect(page).to_have_url(f"{live_server}/search?q={quote('벚꽃')}")
    expect(page.locator(".search-result h2")).to_have_text(["봄 소식"])
    expect(page.get_by_role("searchbox", name="글 검색")).to_have_value("벚꽃")
    context.close()
