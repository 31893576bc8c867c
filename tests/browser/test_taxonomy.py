"""The categories and tags page in Chromium: phone and laptop widths, delete with confirmation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from blog.auth.accounts import create_user
from blog.database import writing
from blog.extensions import db
from blog.models import Category, Role
from tests.browser.conftest import screenshot
from tests.browser.test_editor import LAPTOP, PASSWORD, PHONE, sign_in, watch_errors
from tests.conftest import MakePost

LONG_NAME = "서울특별시 종로구 세종대로 정부서울청사 앞 기자회견 현장 속보와 후속 취재 모음"


@pytest.fixture
def newsroom(app: Flask, make_post: MakePost) -> int:
    """An editor who reads Korean, and categories a desk has; returns News's id."""
    with app.app_context(), writing():
        create_user("kim", PASSWORD, Role.EDITOR, display_name="김기자").language = "ko"
    make_post(title="속보", categories=("News", "정치", LONG_NAME), tags=("🔥🔥", "선거"))
    make_post(title="경제", categories=("News", "경제"), tags=("x" * 90,))
    with app.app_context():
        return db.session.execute(select(Category.id).where(Category.name == "News")).scalar_one()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    yield page
    context.close()


def fits_the_width(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_page_at_laptop_and_phone_width(live_server: str, page: Page, newsroom: int) -> None:
    errors = watch_errors(page)
    sign_in(page, live_server, "kim")
    page.goto(live_server + "/admin/taxonomy")
    expect(page.locator("#category-terms h2")).to_contain_text("카테고리")
    expect(page.locator(f"#category-{newsroom} .term-count")).to_have_text("글 2개")
    screenshot(page, "taxonomy-laptop")
    page.set_viewport_size(PHONE)
    page.locator(f"#category-{newsroom} summary").click()
    assert fits_the_width(page)
    screenshot(page, "taxonomy-phone")
    assert not errors


def test_delete_in_use_asks_in_place_with_htmx(live_server: str, page: Page, newsroom: int) -> None:
    errors = watch_errors(page)
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "kim")
    page.goto(live_server + "/admin/taxonomy")
    row = page.locator(f"#category-{newsroom}")
    row.locator("summary").click()
    row.get_by_role("button", name="삭제").click()
    question = row.locator(".confirmation")
    expect(question).to_contain_text("글 2개가 “News” 카테고리를 쓰고 있습니다")
    assert page.url == live_server + "/admin/taxonomy"  # asked in place, not a new page
    assert fits_the_width(page)
    screenshot(page, "taxonomy-confirm-delete-phone")
    question.get_by_role("link", name="취소").click()
    expect(page.locator(f"#category-{newsroom}")).to_be_visible()
    row.locator("summary").click()
    row.get_by_role("button", name="삭제").click()
    row.locator(".confirmation").get_by_role("button", name="삭제").click()
    expect(page.locator(".flash")).to_have_text("카테고리를 삭제했습니다: “News”")
    expect(page.locator(f"#category-{newsroom}")).to_have_count(0)
    assert not errors


def test_delete_in_use_asks_on_a_page_of_its_own_without_javascript(
    live_server: str, browser: Browser, newsroom: int
) -> None:
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_server, "kim")
        page.goto(live_server + "/admin/taxonomy")
        row = page.locator(f"#category-{newsroom}")
        row.locator("summary").click()
        row.get_by_role("button", name="삭제").click()
        expect(page).to_have_url(f"{live_server}/admin/taxonomy/category/{newsroom}/delete")
        expect(page.locator(".confirmation")).to_contain_text(
            "글 2개가 “News” 카테고리를 쓰고 있습니다"
        )
        page.locator(".confirmation").get_by_role("button", name="삭제").click()
        expect(page).to_have_url(live_server + "/admin/taxonomy")
        expect(page.locator(".flash")).to_have_text("카테고리를 삭제했습니다: “News”")
        # A rename with JavaScript off: the message, then the new name in the list.
        row = page.locator("#category-terms .term").first
        row.locator("summary").click()
        row.locator("input[name=name]").fill("경제 일반")
        row.get_by_role("button", name="이름 바꾸기").click()
        expect(page.locator(".flash")).to_contain_text("“경제 일반”")
    finally:
        context.close()
