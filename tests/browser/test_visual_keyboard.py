"""Writing a post in the visual editor with the keyboard alone: Tab reaches the mode
switch, the toolbar (one Tab stop, arrow keys inside, as WAI-ARIA's toolbar pattern says)
and the text; toolbar buttons work with Enter and Space and give the focus back to the
text; Ctrl+B/I/U and Ctrl+Z/Y work; Alt+F10 goes from the text to the toolbar."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_editor import sign_in, watch_errors
from tests.browser.test_visual_editor import (
    no_csp_violations,
    open_visual,
    post_id,
    served_body,
)
from tests.browser.test_visual_ime import ime_session, one_line, surface, type_hangul
from tests.conftest import MakePost


def focused(page: Page, selector: str) -> bool:
    return bool(page.evaluate("(s) => document.activeElement.matches(s)", selector))


def press_until(page: Page, key: str, selector: str, limit: int = 40) -> None:
    """Press `key` until the focus is on `selector`, as a person tabbing along would."""
    for _ in range(limit):
        if focused(page, selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} never reached {selector}")


def toolbar_button(name: str) -> str:
    return f'.visual-toolbar button[aria-label="{name}"]'


@pytest.mark.usefixtures("editor_user")
def test_a_korean_post_written_with_the_keyboard_alone(
    live_server: str, ime_context: BrowserContext
) -> None:
    page = ime_context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_server, "kim")
    page.goto(live_server + "/admin/posts/new")
    ime = ime_session(page)
    keyboard = page.keyboard

    press_until(page, "Tab", "#title")
    keyboard.type("키보드로 쓴 글")
    press_until(page, "Tab", "#format")
    keyboard.press("ArrowDown")  # Markdown → HTML
    expect(page.locator("#format")).to_have_value("html")
    press_until(page, "Tab", "[data-mode=visual]")
    keyboard.press("Enter")
    expect(surface(page)).to_be_focused()

    # The toolbar is one Tab stop between the mode switch and the text.
    keyboard.press("Shift+Tab")
    assert focused(page, ".visual-toolbar button")
    assert page.locator(".visual-toolbar [tabindex='0']").count() == 1
    keyboard.press("Shift+Tab")
    assert focused(page, "[data-mode=html]")
    keyboard.press("Tab")
    keyboard.press("Tab")
    expect(surface(page)).to_be_focused()

    type_hangul(ime, "한국어 ")
    # Bold from the toolbar: Shift+Tab to it, the arrow keys along it, Enter.
    keyboard.press("Shift+Tab")
    press_until(page, "ArrowRight", toolbar_button("Bold"))
    screenshot(page, "visual-editor-keyboard-toolbar")
    keyboard.press("Enter")
    expect(surface(page)).to_be_focused()
    expect(page.locator(toolbar_button("Bold"))).to_have_attribute("aria-pressed", "true")
    type_hangul(ime, "굵게")
    keyboard.press("Control+b")
    type_hangul(ime, " 보통")
    # The toolbar remembers its button: Shift+Tab comes back to Bold; Escape goes back.
    keyboard.press("Shift+Tab")
    assert focused(page, toolbar_button("Bold"))
    keyboard.press("End")
    assert focused(page, ".visual-toolbar button:last-of-type")
    keyboard.press("ArrowRight")  # wraps around to the first
    assert focused(page, ".visual-toolbar button:first-of-type")
    keyboard.press("Escape")
    expect(surface(page)).to_be_focused()

    # Italic and underline by shortcut, on text selected with Shift and the arrows.
    keyboard.press("Enter")
    type_hangul(ime, "기울임")
    for _ in range(3):
        keyboard.press("Shift+ArrowLeft")
    keyboard.press("Control+i")
    keyboard.press("End")
    keyboard.press("Control+i")  # italic ends here, as in a word processor
    type_hangul(ime, " 밑줄")
    for _ in range(2):
        keyboard.press("Shift+ArrowLeft")
    keyboard.press("Control+u")
    keyboard.press("End")

    # A list from the toolbar, reached with Alt+F10 and pressed with Space.
    keyboard.press("Enter")
    keyboard.press("Alt+F10")  # back to where the toolbar was left
    assert focused(page, ".visual-toolbar button:first-of-type")
    press_until(page, "ArrowRight", toolbar_button("Bulleted list"))
    keyboard.press("Space")
    expect(surface(page)).to_be_focused()
    type_hangul(ime, "목록")

    body = page.locator("#body")
    written = "<p>한국어 <b>굵게</b> 보통</p><p><i>기울임</i> <u>밑줄</u></p><ul><li>목록</li></ul>"
    expect(body).to_have_value(re.compile("목록"))
    assert one_line(body.input_value()) == written
    # Undo and redo by shortcut.
    keyboard.press("Control+z")
    expect(body).not_to_have_value(re.compile("목록"))
    keyboard.press("Control+y")
    expect(body).to_have_value(re.compile("목록"))
    assert one_line(body.input_value()) == written

    # Out of the text with Tab, to the status and the save button.
    press_until(page, "Tab", "#status")
    keyboard.press("ArrowDown")
    keyboard.press("ArrowDown")  # Draft → Pending review → Published
    expect(page.locator("#status")).to_have_value("published")
    press_until(page, "Tab", "#save-button")
    keyboard.press("Enter")
    expect(page.locator(".flash")).to_have_text("Published.")

    slug = "키보드로-쓴-글"
    assert one_line(served_body(page, f"{live_server}/posts/{slug}")) == written
    page.goto(f"{live_server}/posts/{slug}")
    expect(page.locator(".post-body b")).to_have_css("font-weight", "700")
    expect(page.locator(".post-body i")).to_have_css("font-style", "italic")
    no_csp_violations(page, errors)


@pytest.mark.usefixtures("editor_user")
def test_alt_f10_leads_out_of_a_table_where_tab_moves_between_cells(
    app: Flask, live_server: str, ime_context: BrowserContext, make_post: MakePost
) -> None:
    source = "<table><tbody><tr><td>가</td><td>나</td></tr></tbody></table>"
    slug = make_post(title="표", source=source, source_format="html")
    page = ime_context.new_page()
    sign_in(page, live_server, "kim")
    page.goto(f"{live_server}/admin/posts/{post_id(app, slug)}/edit")
    open_visual(page)
    page.keyboard.press("Control+Home")
    # In a table Tab is the editor's (it selects the next cell's text, as in a word
    # processor; after the last cell it adds a row): no way out by Tab alone.
    page.keyboard.press("Tab")
    page.keyboard.type("다")
    expect(page.locator("#body")).to_have_value(re.compile("<td>가</td><td>다</td>"))
    page.keyboard.press("Alt+F10")
    assert focused(page, ".visual-toolbar button")
    page.keyboard.press("Shift+Tab")
    assert focused(page, "[data-mode=html]")
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(surface(page)).to_be_focused()
