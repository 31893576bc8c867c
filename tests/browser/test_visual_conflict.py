"""Two editors change one HTML post in visual mode at once: the second save gets the 409
conflict page (their version, a line diff of the HTML source), comes back in visual mode
with nothing lost, and the merge made there saves."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from blog.auth.accounts import create_user
from blog.database import writing
from blog.models import Role
from tests.browser.conftest import WATCH_IME, screenshot, watching_context
from tests.browser.test_editor import PASSWORD, sign_in, watch_errors
from tests.browser.test_visual_editor import no_csp_violations, open_visual, post_id, served_body
from tests.browser.test_visual_ime import ime_session, one_line, surface, type_hangul
from tests.conftest import MakePost


@pytest.fixture
def editors(app: Flask) -> None:
    with app.app_context(), writing():
        create_user("kim", PASSWORD, Role.EDITOR, display_name="김기자")
        create_user("lee", PASSWORD, Role.EDITOR, display_name="이기자")


def editing_in_visual_mode(browser: Browser, base: str, username: str, url: str) -> Page:
    page = watching_context(browser, WATCH_IME, locale="ko-KR").new_page()
    sign_in(page, base, username)
    page.goto(url)
    open_visual(page)
    return page


def in_visual_mode(page: Page) -> None:
    expect(surface(page)).to_be_visible()
    expect(page.locator("#body")).to_be_hidden()
    expect(page.locator("[data-mode=visual]")).to_have_attribute("aria-pressed", "true")


@pytest.mark.usefixtures("editors")
def test_two_editors_conflict_in_visual_mode_and_merge_there(
    app: Flask, live_server: str, browser: Browser, make_post: MakePost
) -> None:
    source = "<p>첫 문단</p>\n<p>둘째 문단</p>\n<p>셋째 문단</p>"
    slug = make_post(title="함께 고치는 글", source=source, source_format="html")
    edit_url = f"{live_server}/admin/posts/{post_id(app, slug)}/edit"
    kim = editing_in_visual_mode(browser, live_server, "kim", edit_url)
    lee = editing_in_visual_mode(browser, live_server, "lee", edit_url)
    try:
        kim_errors = watch_errors(kim)
        # 이기자 changes the second paragraph and saves first: still in visual mode after.
        lee.keyboard.press("Control+Home")
        lee.keyboard.press("ArrowDown")
        lee.keyboard.press("End")
        type_hangul(ime_session(lee), " 고침")
        lee.locator("#save-button").click()
        expect(lee.locator(".flash")).to_be_visible()
        in_visual_mode(lee)
        theirs = "<p>첫 문단</p>\n<p>둘째 문단 고침</p>\n<p>셋째 문단</p>"
        assert one_line(served_body(lee, f"{live_server}/posts/{slug}")) == one_line(theirs)

        # 김기자 adds to the third and saves on the older version.
        kim.keyboard.press("Control+End")
        type_hangul(ime_session(kim), " 덧붙임")
        yours = "<p>첫 문단</p>\n<p>둘째 문단</p>\n<p>셋째 문단 덧붙임</p>"
        expect(kim.locator("#body")).to_have_value(yours)
        kim.locator("#save-button").click()

        conflict = kim.locator("#conflict")
        expect(conflict).to_contain_text("Someone else saved this post while you were editing")
        expect(conflict).to_contain_text("이기자")
        expect(kim.locator(".their-body")).to_have_value(theirs)
        # … and, for a writer who does not read HTML, as readers see it.
        kim.get_by_text("Their version as readers see it").click()
        expect(kim.locator(".their-rendering .post-body p")).to_have_text(
            ["첫 문단", "둘째 문단 고침", "셋째 문단"]
        )
        # One line per paragraph: the diff names the two that differ, nothing else.
        expect(kim.locator(".diff-same")).to_have_text(["  <p>첫 문단</p>"])
        expect(kim.locator(".diff-removed")).to_have_text(
            ["- <p>둘째 문단 고침</p>", "- <p>셋째 문단</p>"]
        )
        expect(kim.locator(".diff-added")).to_have_text(
            ["+ <p>둘째 문단</p>", "+ <p>셋째 문단 덧붙임</p>"]
        )
        # Visual mode is back with 김기자's text, and the notice is what is in view.
        in_visual_mode(kim)
        expect(surface(kim)).to_have_text(re.compile("셋째 문단 덧붙임$"))
        expect(kim.locator("#body")).to_have_value(yours)
        expect(conflict).to_be_in_viewport()
        expect(surface(kim)).not_to_be_focused()
        screenshot(kim, "visual-editor-conflict")

        # The merge, made in visual mode: 이기자's words added to the second paragraph.
        surface(kim).locator("p").nth(1).click()
        kim.keyboard.press("End")
        type_hangul(ime_session(kim), " 고침")
        merged = "<p>첫 문단</p>\n<p>둘째 문단 고침</p>\n<p>셋째 문단 덧붙임</p>"
        expect(kim.locator("#body")).to_have_value(merged)
        kim.locator("#save-button").click()
        expect(kim.locator(".flash")).to_be_visible()
        expect(kim.locator("#conflict")).to_have_count(0)
        in_visual_mode(kim)
        assert one_line(served_body(kim, f"{live_server}/posts/{slug}")) == one_line(merged)
        no_csp_violations(kim, kim_errors)
    finally:
        kim.context.close()
        lee.context.close()
