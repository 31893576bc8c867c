"""A reader in Chromium: the sample post as it looked on the old blog, and the post list."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from flask import Flask
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import screenshot
from tests.conftest import MakePost
from tests.public.test_article import SEED_SLUG, import_sample


def make_posts(make_post: MakePost, count: int) -> None:
    start = datetime(2023, 1, 1, tzinfo=UTC)
    for number in range(count):
        make_post(title=f"Filler {number}", published_at=start + timedelta(days=number))


def test_reader_follows_the_sample_post_and_sees_its_formatting(
    app: Flask, live_server: str, page: Page
) -> None:
    import_sample(app)
    page.goto(live_server + "/")
    screenshot(page, "home-desktop")
    page.get_by_role("link", name="한·미 동맹 지지 대통령실 초당적 의지 공개!").click()
    expect(page).to_have_url(f"{live_server}/posts/{quote(SEED_SLUG)}")
    expect(page.locator("h1.post-title")).to_have_text("한·미 동맹 지지 대통령실 초당적 의지 공개!")

    red = page.locator(".post-body span", has_text="대통령실에 따르면").first
    assert red.evaluate("el => getComputedStyle(el).color") == "rgb(238, 35, 35)"
    assert red.evaluate("el => getComputedStyle(el.parentElement).fontWeight") == "700"
    highlight = page.locator(".post-body span", has_text="우리 정부는").first
    assert highlight.evaluate("el => getComputedStyle(el).backgroundColor") == (
        "rgba(33, 83, 133, 0.153)"
    )
    blue = page.locator(".post-body span", has_text="글로벌 포괄 전략 동맹으로 격상된").first
    assert blue.evaluate("el => getComputedStyle(el).color") == "rgb(26, 84, 144)"

    cells = page.locator(".post-body table td")
    expect(cells).to_have_count(4)
    for index in range(4):
        assert cells.nth(index).evaluate("el => getComputedStyle(el).textAlign") == "center"
    table = page.locator(".post-body table")
    assert table.evaluate("el => getComputedStyle(el).borderCollapse") == "collapse"
    body_width = page.locator(".post-body").evaluate("el => el.clientWidth")
    assert abs(table.evaluate("el => el.offsetWidth") - body_width) <= 1  # width: 100%

    expect(page.locator(".post-body ul:not(.toc ul) > li")).to_have_count(3)
    # Four headings: the contents box links each (issue 11), and the links lead to them.
    expect(page.locator(".post-body .toc a")).to_have_count(4)
    page.locator(".post-body .toc a").last.click()
    expect(page.locator(".post-body h2").last).to_be_in_viewport()
    expect(page.locator(".post-body a[href='https://newsdao.kr']")).to_have_text(
        "https://newsdao.kr"
    )
    image = page.locator(".post-body img").first
    assert image.evaluate("el => el.complete && el.naturalWidth") == 1200
    screenshot(page, "article-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "article-phone")


def test_old_jekyll_url_lands_on_the_new_page(app: Flask, live_server: str, page: Page) -> None:
    import_sample(app)
    page.goto(live_server + "/news/2024/07/22/한미-동맹-지지-대통령실-초당적-의지-공개.html")
    assert unquote(page.url) == f"{live_server}/posts/{SEED_SLUG}"


def test_more_posts_appends_the_next_page_in_place(
    make_post: MakePost, live_server: str, page: Page
) -> None:
    make_posts(make_post, 7)  # three per page in tests
    page.goto(live_server + "/")
    cards = page.locator(".post-card")
    expect(cards).to_have_count(3)
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("link", name="More posts").click()
    expect(cards).to_have_count(6)
    page.get_by_role("link", name="More posts").click()
    expect(cards).to_have_count(7)
    expect(page.get_by_role("link", name="More posts")).to_have_count(0)
    assert page.evaluate("window.stillTheSamePage") is True  # no page load happened
    assert page.url == live_server + "/"
    titles = cards.locator("h2").all_inner_texts()
    assert titles == [f"Filler {n}" for n in range(6, -1, -1)]
    screenshot(page, "home-more-posts")


def test_more_posts_without_javascript_is_a_plain_link(
    make_post: MakePost, live_server: str, browser: Browser
) -> None:
    make_posts(make_post, 7)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server + "/")
        page.get_by_role("link", name="More posts").click()
        expect(page).to_have_url(re.compile(re.escape(live_server) + r"/\?before=[0-9]+-[0-9]+$"))
        expect(page.locator(".post-card")).to_have_count(3)
        expect(page.locator(".post-card h2").first).to_have_text("Filler 3")
        page.get_by_role("link", name="← Newer posts").click()
        expect(page).to_have_url(live_server + "/")
        screenshot(page, "home-no-javascript")
    finally:
        context.close()


def test_no_console_errors_or_csp_violations(app: Flask, live_server: str, page: Page) -> None:
    import_sample(app)
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server + "/")
    page.goto(f"{live_server}/posts/{quote(SEED_SLUG)}")
    page.goto(live_server + "/missing")
    assert [e for e in errors if "404" not in e] == []
