"""The editor in Chromium: sign in, write with live preview, autosave, conflicts, images."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page, expect

from blog.auth.accounts import create_user
from blog.database import writing
from blog.models import Role
from tests.browser.conftest import screenshot

PASSWORD = "correct horse battery"
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def users(app: Flask) -> None:
    with app.app_context(), writing():
        create_user("kim", PASSWORD, Role.EDITOR, display_name="김기자")
        create_user("lee", PASSWORD, Role.EDITOR, display_name="이기자")
        create_user("park", PASSWORD, Role.CONTRIBUTOR)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=LAPTOP)
    yield context
    context.close()


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("User name or e-mail").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(base + "/admin/")


# Leaving the page while an autosave is in flight aborts it; htmx reports that as an error.
_BENIGN = ("htmx:sendAbort", "htmx:afterRequest")


def watch_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith(_BENIGN):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def png_bytes(color: tuple[int, int, int]) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (80, 60), color).save(output, "PNG")
    return output.getvalue()


@pytest.mark.usefixtures("users")
def test_write_with_live_preview_autosave_and_publish(
    live_server: str, context: BrowserContext
) -> None:
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_server, "kim")
    page.get_by_role("link", name="New post", exact=True).click()
    # htmx listens from DOMContentLoaded, which waits for the deferred scripts (the visual
    # editor's bundle among them): a title typed before it would send no address hint.
    page.wait_for_url("**/admin/posts/new", wait_until="domcontentloaded")
    page.get_by_label("Title").fill("브라우저에서 쓴 글")
    expect(page.locator("#slug-hint")).to_contain_text("/posts/브라우저에서-쓴-글")
    page.locator("#body").fill(
        '## 소제목\n\n**굵은 글씨** 와 <span style="color: #ee2323">빨강</span>'
    )
    expect(page.locator("#preview h2")).to_have_text("소제목")
    expect(page.locator("#preview strong")).to_have_text("굵은 글씨")
    red = page.locator("#preview span", has_text="빨강")
    expect(red).to_have_css("color", "rgb(238, 35, 35)")
    expect(page.locator("#save-status")).to_contain_text("Draft kept at", timeout=20_000)
    screenshot(page, "editor-laptop")
    page.set_viewport_size(PHONE)
    screenshot(page, "editor-phone")
    page.set_viewport_size(LAPTOP)

    page.get_by_label("Status").select_option("published")
    page.get_by_label("Categories").fill("뉴스")
    # The primary button says what saving now does.
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".flash")).to_have_text("Published.")
    expect(page.get_by_role("link", name="View post")).to_be_visible()
    page.goto(live_server + "/")
    page.get_by_role("link", name="브라우저에서 쓴 글").click()
    expect(page.locator(".post-body strong")).to_have_text("굵은 글씨")
    assert errors == [], errors


@pytest.mark.usefixtures("users")
def test_inline_validation_names_the_problem_without_a_reload(
    live_server: str, context: BrowserContext
) -> None:
    page = context.new_page()
    sign_in(page, live_server, "kim")
    page.goto(live_server + "/admin/posts/new")
    page.evaluate("window.stillHere = true")
    page.get_by_label("Status").select_option("scheduled")
    expect(page.locator("#error-published_at")).to_contain_text(
        "A scheduled post needs a publish time in the future."
    )
    page.get_by_label("Title").fill("x")
    page.get_by_label("Title").fill("")
    page.get_by_label("Title").blur()
    expect(page.locator("#error-title")).to_have_text("A title is needed.")
    assert page.evaluate("window.stillHere") is True


@pytest.mark.usefixtures("users")
def test_two_editors_conflict_and_merge_by_hand(live_server: str, browser: Browser) -> None:
    kim_context, lee_context = (
        browser.new_context(viewport=LAPTOP),
        browser.new_context(viewport=LAPTOP),
    )
    try:
        kim, lee = kim_context.new_page(), lee_context.new_page()
        sign_in(kim, live_server, "kim")
        kim.goto(live_server + "/admin/posts/new")
        kim.get_by_label("Title").fill("함께 고치는 글")
        kim.locator("#body").fill("첫 줄\n둘째 줄")
        kim.get_by_role("button", name="Save", exact=True).click()
        expect(kim.locator(".flash")).to_have_text("Saved.")
        edit_url = kim.url

        sign_in(lee, live_server, "lee")
        lee.goto(edit_url)
        kim.reload()
        lee.locator("#body").fill("첫 줄\n이기자가 고친 둘째 줄")
        lee.get_by_role("button", name="Save", exact=True).click()
        expect(lee.locator(".flash")).to_have_text("Saved.")

        kim.locator("#body").fill("첫 줄\n둘째 줄\n김기자가 덧붙인 셋째 줄")
        kim.get_by_role("button", name="Save", exact=True).click()
        conflict = kim.locator("#conflict")
        expect(conflict).to_contain_text("Someone else saved this post while you were editing")
        expect(conflict).to_contain_text("이기자")
        expect(kim.locator(".their-body")).to_have_value("첫 줄\n이기자가 고친 둘째 줄")
        expect(kim.locator("#body")).to_have_value("첫 줄\n둘째 줄\n김기자가 덧붙인 셋째 줄")
        expect(kim.locator(".diff-added").last).to_have_text("+ 김기자가 덧붙인 셋째 줄")
        screenshot(kim, "editor-conflict")

        kim.locator("#body").fill("첫 줄\n이기자가 고친 둘째 줄\n김기자가 덧붙인 셋째 줄")
        kim.get_by_role("button", name="Save", exact=True).click()
        expect(kim.locator(".flash")).to_have_text("Saved.")
        lee.reload()
        expect(lee.locator("#body")).to_have_value(
            "첫 줄\n이기자가 고친 둘째 줄\n김기자가 덧붙인 셋째 줄"
        )
    finally:
        kim_context.close()
        lee_context.close()


@pytest.mark.usefixtures("users")
def test_upload_and_insert_images(live_server: str, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, live_server, "kim")
    page.goto(live_server + "/admin/posts/new")
    page.locator("#body").fill("사진:")
    page.locator("#upload-form input[type=file]").set_input_files(
        {"name": "picked.png", "mimeType": "image/png", "buffer": png_bytes((20, 120, 200))}
    )
    page.locator("#upload-alt").fill("파란 사각형")
    page.locator("#upload-form").get_by_role("button", name="Upload").click()
    page.get_by_role("button", name="Insert into the body").click()
    expect(page.locator("#body")).to_have_value(
        re.compile(r"!\[파란 사각형\]\(/media/[0-9a-f]{64}/picked\.png\)")
    )
    expect(page.locator("#upload-alt")).to_have_value("")  # ready for the next image
    expect(page.locator("#preview img")).to_have_count(1)
    page.get_by_role("button", name="Use as feature image").click()
    expect(page.locator("#feature_image")).to_have_value(
        re.compile(r"^/media/[0-9a-f]{64}/picked\.png$")
    )

    # Drag and drop a second image onto the body: asked for its alt text, uploaded and
    # inserted in one go.
    questions: list[str] = []

    def answer(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept("빨간 사각형 [1]")

    page.once("dialog", answer)
    encoded = base64.b64encode(png_bytes((200, 40, 40))).decode()
    page.evaluate(
        """(data) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
            const body = document.getElementById("body");
            const options = {dataTransfer: transfer, bubbles: true, cancelable: true};
            body.dispatchEvent(new DragEvent("dragover", options));
            body.dispatchEvent(new DragEvent("drop", options));
        }""",
        encoded,
    )
    expect(page.locator("#body")).to_have_value(
        re.compile(r"!\[빨간 사각형 \\\[1\\\]\]\(/media/[0-9a-f]{64}/dropped\.png\)")
    )
    assert questions and "alt text" in questions[0]
    expect(page.locator("#preview img")).to_have_count(2)
    expect(page.locator("#preview img").nth(1)).to_have_attribute("alt", "빨간 사각형 [1]")


@pytest.mark.usefixtures("users")
def test_leaving_the_page_keeps_the_working_copy(live_server: str, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, live_server, "kim")
    page.goto(live_server + "/admin/posts/new")
    page.get_by_label("Title").fill("떠나기 직전에 쓴 제목")
    page.goto(live_server + "/admin/")  # before the 3-second autosave: the beacon keeps it
    banner = page.locator("#working-copy")
    for _ in range(50):  # the beacon is sent while the old page unloads; give it a moment
        page.goto(live_server + "/admin/posts/new")
        if banner.count():
            break
    expect(banner).to_be_visible()
    page.get_by_role("link", name="Restore them").click()
    expect(page.get_by_label("Title")).to_have_value("떠나기 직전에 쓴 제목")


@pytest.mark.usefixtures("users")
def test_the_editor_works_without_javascript(live_server: str, browser: Browser) -> None:
    context = browser.new_context(viewport=LAPTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_server, "kim")
        page.goto(live_server + "/admin/posts/new")
        page.locator("#body").fill("자바스크립트 없이 쓴 본문")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator("#error-title")).to_have_text("A title is needed.")
        expect(page.locator("#body")).to_have_value("자바스크립트 없이 쓴 본문")
        page.get_by_label("Title").fill("JS 없는 글")
        page.get_by_label("Status").select_option("published")
        expect(page.locator("#upload-form")).to_be_hidden()  # it would leave the page
        page.locator("input[name=attachment]").set_input_files(
            {"name": "첨부.png", "mimeType": "image/png", "buffer": png_bytes((10, 160, 90))}
        )
        page.locator("input[name=attachment_alt]").fill("초록 사각형")
        # Without JavaScript the button keeps the name of the status the page came with;
        # the status chosen in the menu is what the save does, and the message says so.
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator(".flash")).to_have_text("Published.")
        expect(page.locator("#preview .post-body")).to_contain_text("자바스크립트 없이 쓴 본문")
        expect(page.locator("#body")).to_have_value(
            re.compile(r"!\[초록 사각형\]\(/media/[0-9a-f]{64}/")
        )
        expect(page.locator("#preview img")).to_have_count(1)
        screenshot(page, "editor-no-javascript")
        page.goto(live_server + "/admin/")
        expect(page.get_by_role("link", name="JS 없는 글")).to_be_visible()
        screenshot(page, "dashboard-laptop")
    finally:
        context.close()
