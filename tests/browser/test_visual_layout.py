"""The editor page in visual mode on a laptop (1366 px) and a phone (390 px): the page never
scrolls sideways. On a laptop the toolbar wraps inside the form; on a phone it is one row of
touch targets of 44 px (as are the mode switch's) that scrolls sideways inside the form, and
the keyboard reaches every button in it. Screenshots go to test-output/screenshots/ for a
person to look at."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_editor import LAPTOP, PHONE, sign_in, watch_errors
from tests.browser.test_visual_editor import (
    no_csp_violations,
    open_visual,
    post_id,
    tistory_body,
)
from tests.conftest import MakePost

# The page's width beyond the window, and every toolbar button's box.
_LAYOUT = """() => {
  const controls = ".visual-toolbar button, .visual-toolbar input, .mode-switch button";
  const buttons = document.querySelectorAll(controls);
  return {
    overflow: document.scrollingElement.scrollWidth - window.innerWidth,
    form: document.getElementById("post-form").getBoundingClientRect().right,
    toolbar: document.querySelector(".visual-toolbar").getBoundingClientRect().height,
    buttons: [...buttons].map((button) => {
      const box = button.getBoundingClientRect();
      return {name: button.textContent, width: box.width, height: box.height,
              left: box.left, right: box.right};
    }),
  };
}"""


@pytest.mark.parametrize("width", ["laptop", "phone"])
@pytest.mark.usefixtures("editor_user")
def test_visual_mode_fits_the_window_with_touch_sized_buttons(
    app: Flask,
    live_server: str,
    csp_context: BrowserContext,
    make_post: MakePost,
    width: str,
) -> None:
    slug = make_post(title="도로 통제 안내", source=tistory_body(), source_format="html")
    page = csp_context.new_page()
    page.set_viewport_size(PHONE if width == "phone" else LAPTOP)
    errors = watch_errors(page)
    sign_in(page, live_server, "kim")
    page.goto(f"{live_server}/admin/posts/{post_id(app, slug)}/edit")
    open_visual(page)
    expect(page.locator(".visual-surface table").first).to_be_visible()
    screenshot(page, f"visual-editor-{width}")

    layout = page.evaluate(_LAYOUT)
    assert layout["overflow"] <= 0, f"the page scrolls {layout['overflow']}px sideways"
    shown = [button for button in layout["buttons"] if button["width"]]  # not the table's
    assert len(shown) >= 15
    if width == "laptop":
        for button in shown:
            # Every button inside the form's box, none cut off at the window's edge.
            assert button["left"] >= 0 and button["right"] <= layout["form"], button
    else:
        for button in shown:
            assert button["width"] >= 44 and button["height"] >= 44, button
        # One row of buttons (not six), scrolling inside the form.
        assert layout["toolbar"] < 2 * 44, layout["toolbar"]
        assert_scrolls_within_form(page, ".toolbar-row", layout["form"])
        # The keyboard reaches the last button, and it is scrolled into view.
        page.locator(".visual-surface .ProseMirror p").first.click()
        page.keyboard.press("Alt+F10")
        page.keyboard.press("End")
        redo = page.locator(".visual-toolbar [data-command=redo]")
        expect(redo).to_be_focused()
        expect(redo).to_be_in_viewport(ratio=1)
        assert within(redo.bounding_box(), page.locator(".toolbar-row").bounding_box())
        # In a table the table's tools are a second row, scrolling the same way.
        page.locator(".visual-surface td").first.click()
        expect(page.locator(".table-tools")).to_be_visible()
        assert_scrolls_within_form(page, ".table-tools", layout["form"], scrolls=False)
        screenshot(page, "visual-editor-phone-table")
    no_csp_violations(page, errors)


def within(inner: dict[str, float] | None, outer: dict[str, float] | None) -> bool:
    assert inner and outer
    return (outer["x"] - 0.5 <= inner["x"]
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5)  # fmt: skip


def assert_scrolls_within_form(
    page: Page, row: str, form_right: float, scrolls: bool = True
) -> None:
    """`row`'s box ends inside the form and its buttons are on one line; with `scrolls`,
    they are more than it shows at once."""
    box = page.evaluate(
        """(selector) => {
          const row = document.querySelector(".visual-toolbar " + selector);
          const tops = new Set([...row.children].filter((child) => child.localName !== "span")
                                 .map((child) => Math.round(child.getBoundingClientRect().top)));
          return {right: row.getBoundingClientRect().right, lines: tops.size,
                  hidden: row.scrollWidth - row.clientWidth};
        }""",
        row,
    )
    assert box["right"] <= form_right and box["lines"] == 1, box
    if scrolls:
        assert box["hidden"] > 0, box
