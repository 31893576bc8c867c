"""The editor page in visual mode on a laptop (1366 px) and a phone (390 px): the page never
scrolls sideways, the toolbar wraps inside the form, and on a phone its buttons (and the
mode switch's) are touch targets of 44 px. Screenshots go to test-output/screenshots/ for
a person to look at."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, expect

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
    for button in shown:
        # Every button inside the form's box, none cut off at the window's edge.
        assert button["left"] >= 0 and button["right"] <= layout["form"], button
        if width == "phone":
            assert button["width"] >= 44 and button["height"] >= 44, button
    no_csp_violations(page, errors)
