"""The desk in Chromium: a reporter submits, the editor sees the queue and sends the post back,
the reporter reads the note; destructive actions ask first, in place."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect

from blog.auth.accounts import create_user
from blog.database import writing
from blog.models import Role
from tests.browser.conftest import screenshot
from tests.browser.test_editor import LAPTOP, PHONE, sign_in, watch_errors

PASSWORD = "correct horse battery"


@pytest.fixture
def desk(app: Flask) -> None:
    with app.app_context(), writing():
        create_user("kim", PASSWORD, Role.EDITOR, display_name="김데스크")
        create_user("park", PASSWORD, Role.CONTRIBUTOR, display_name="박기자")


@pytest.fixture
def contexts(browser: Browser) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    reporter, editor = browser.new_context(viewport=LAPTOP), browser.new_context(viewport=LAPTOP)
    yield reporter, editor
    reporter.close()
    editor.close()


def write_and_submit(page: Page, base: str, title: str) -> None:
    page.goto(base + "/admin/posts/new")
    page.get_by_label("Title").fill(title)
    page.locator("#body").fill("부산 해운대 빛축제가 1일 개막했다.")
    page.get_by_role("button", name="Submit for review", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Submitted for review")


@pytest.mark.usefixtures("desk")
def test_submit_queue_send_back_and_resubmit(
    live_server: str, contexts: tuple[BrowserContext, BrowserContext]
) -> None:
    reporter, editor = (context.new_page() for context in contexts)
    errors = watch_errors(reporter) + watch_errors(editor)
    sign_in(reporter, live_server, "park")
    # A contributor is offered no status they cannot set.
    reporter.goto(live_server + "/admin/posts/new")
    expect(reporter.locator("select#status")).to_have_count(0)
    write_and_submit(reporter, live_server, "해운대 빛축제 개막")
    write_and_submit(reporter, live_server, "광안리 드론쇼")

    sign_in(editor, live_server, "kim")
    expect(editor.locator(".nav-count")).to_have_text("2")
    queue = editor.locator("#review-queue")
    expect(queue).to_contain_text("해운대 빛축제 개막")
    expect(queue).to_contain_text("박기자")
    screenshot(editor, "review-queue-laptop")
    editor.set_viewport_size(PHONE)
    screenshot(editor, "review-queue-phone")
    assert editor.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    editor.set_viewport_size(LAPTOP)

    queue.get_by_role("link", name="해운대 빛축제 개막").click()
    expect(editor.locator("#review-panel")).to_be_visible()
    screenshot(editor, "review-panel-laptop")
    editor.get_by_label("Note to the writer").fill("첫 문장에 날짜와 장소를 넣어 주세요.")
    editor.get_by_role("button", name="Send back", exact=True).click()
    expect(editor.locator(".flash")).to_contain_text("went back to its writer")
    expect(editor.locator(".nav-count")).to_have_text("1")

    reporter.goto(live_server + "/admin/")
    expect(reporter.locator(".sent-back")).to_have_count(1)
    reporter.get_by_role("link", name="해운대 빛축제 개막").click()
    expect(reporter.locator("#review-note")).to_contain_text("첫 문장에 날짜와 장소를")
    reporter.set_viewport_size(PHONE)
    screenshot(reporter, "review-note-phone")
    reporter.set_viewport_size(LAPTOP)
    reporter.locator("#body").fill("1일 부산 해운대에서 빛축제가 개막했다.")
    reporter.get_by_role("button", name="Submit for review", exact=True).click()
    expect(reporter.locator("#review-note")).to_have_count(0)

    # The editor publishes it: the button follows the chosen status.
    editor.goto(live_server + "/admin/")
    editor.locator("#review-queue").get_by_role("link", name="해운대 빛축제 개막").click()
    save = editor.locator("#save-button")
    editor.get_by_label("Status", exact=True).select_option("scheduled")
    expect(save).to_have_text("Schedule")
    editor.get_by_label("Status", exact=True).select_option("published")
    expect(save).to_have_text("Publish")
    save.click()
    expect(editor.locator(".flash")).to_have_text("Published.")
    expect(editor.locator(".nav-count")).to_have_text("1")  # the drone show still waits
    assert errors == [], errors


@pytest.mark.usefixtures("desk")
def test_moving_to_the_trash_asks_in_place_and_the_writer_restores(
    live_server: str, contexts: tuple[BrowserContext, BrowserContext]
) -> None:
    reporter = contexts[0].new_page()
    errors = watch_errors(reporter)
    sign_in(reporter, live_server, "park")
    reporter.goto(live_server + "/admin/posts/new")
    reporter.get_by_label("Title").fill("지울 초안")
    reporter.get_by_role("button", name="Save", exact=True).click()
    expect(reporter.locator(".flash")).to_have_text("Saved.")
    url = reporter.url
    reporter.evaluate("window.stillHere = true")
    reporter.get_by_role("button", name="Move to trash").click()
    confirmation = reporter.locator("#confirmation")
    expect(confirmation).to_contain_text("You can restore “지울 초안” from the trash.")
    assert reporter.evaluate("window.stillHere") is True and reporter.url == url
    confirmation.get_by_role("button", name="Move to trash").click()
    expect(reporter.locator(".flash")).to_contain_text("is in the trash")
    reporter.get_by_role("link", name="Trash", exact=True).click()
    expect(reporter.locator("main")).to_contain_text("지울 초안")
    reporter.get_by_role("button", name="Restore").click()
    expect(reporter.locator(".flash")).to_contain_text("is restored")
    assert errors == [], errors
