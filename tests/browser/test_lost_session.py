"""Signed out in another tab while writing: autosave says so, saving hands the text back."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from blog.auth.accounts import create_user
from blog.database import writing
from blog.models import Role
from tests.browser.conftest import screenshot

PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def reporter(app: Flask) -> None:
    app.config["BLOG_LANGUAGE"] = "ko"
    with app.app_context(), writing():
        create_user("park", PASSWORD, Role.AUTHOR, display_name="박지훈")


@pytest.mark.usefixtures("reporter")
def test_signed_out_elsewhere_autosave_says_so_and_save_hands_the_text_back(
    live_server: str, browser: Browser
) -> None:
    context = browser.new_context(viewport=PHONE, locale="ko-KR")
    try:
        page = context.new_page()
        page.goto(live_server + "/login")
        page.locator("input[name=login]").fill("park")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(live_server + "/admin/")
        page.goto(live_server + "/admin/posts/new")
        # Another tab signs out: the same cookies, the session ends.
        other = context.new_page()
        other.goto(live_server + "/account")
        other.locator("form[action='/logout'] button").first.click()
        other.wait_for_url(live_server + "/")
        other.close()

        page.locator("#title").fill("해운대 빛축제")
        page.locator("#body").fill("첫 문단입니다.\n\n<script>window.ran = 1</script>")
        status = page.locator("#save-status")
        expect(status).to_contain_text("자동 보관하지 못했습니다", timeout=20_000)
        expect(status).to_contain_text("복사해 두세요")

        page.locator("#post-form button[type=submit]").first.click()
        expect(page.locator("h1")).to_contain_text("아무것도 저장되지 않았습니다")
        kept = page.locator(".csrf-error textarea[readonly]")
        expect(kept.nth(0)).to_have_value("해운대 빛축제")
        expect(kept.nth(1)).to_have_value("첫 문단입니다.\n\n<script>window.ran = 1</script>")
        assert page.evaluate("() => window.ran") is None
        again = page.get_by_role("link", name="다시 로그인")
        assert again.get_attribute("href") == "/login?next=/admin/posts/new"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "lost-session-save-phone")
        again.click()
        page.locator("input[name=login]").fill("park")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(live_server + "/admin/posts/new")
    finally:
        context.close()
