"""Tistory posts as Tistory shows them: one blank line per empty paragraph, tables in their box."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask
from playwright.sync_api import Page

from tests.browser.conftest import screenshot
from tests.conftest import MakePost
from tests.public.test_article import SEED_SLUG, import_sample


def test_an_empty_tistory_paragraph_is_one_blank_line_of_its_size(
    app: Flask, live_server: str, page: Page
) -> None:
    import_sample(app)
    page.goto(f"{live_server}/posts/{quote(SEED_SLUG)}")
    spacer = page.locator('.post-body p[data-ke-size="size16"]').first
    height, line, margins = spacer.evaluate(
        "el => { const s = getComputedStyle(el);"
        " return [el.getBoundingClientRect().height, parseFloat(s.lineHeight),"
        " parseFloat(s.marginTop) + parseFloat(s.marginBottom)]; }"
    )
    assert abs(height - line) < 1 and margins == 0
    # The gap from the heading's text to the first paragraph is that line, nearly alone.
    gap = page.evaluate(
        "() => { const h = document.querySelector('.post-body h2');"
        " const p = h.nextElementSibling.nextElementSibling;"
        " return p.getBoundingClientRect().top - h.getBoundingClientRect().bottom; }"
    )
    assert line <= gap <= line + 8


def test_at_phone_width_a_tistory_table_scrolls_in_its_box_with_borders_on_its_cells(
    make_post: MakePost, live_server: str, page: Page
) -> None:
    wide = "".join(f'<td style="min-width: 120px;">열{n}</td>' for n in range(8))
    body = (
        '<table style="border-collapse: collapse; width: 100%;" border="1">'
        f"<tbody><tr>{wide}</tr><tr><td>짧은</td></tr></tbody></table><p>뒤 문단</p>"
    )
    slug = make_post(title="표", source=body, source_format="html")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/posts/{slug}")
    table = page.locator(".post-body table")
    box, scroll, border = table.evaluate(
        "el => [el.clientWidth, el.scrollWidth, getComputedStyle(el).borderTopWidth]"
    )
    body_width = page.locator(".post-body").evaluate("el => el.clientWidth")
    assert box <= body_width and scroll > box  # scrolls inside, the page does not
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert border == "0px"
    cell = page.locator(".post-body td").first
    assert cell.evaluate("el => getComputedStyle(el).borderTopWidth") == "1px"
    screenshot(page, "tistory-wide-table-phone")


def test_at_phone_width_table_cells_keep_korean_words_whole(
    make_post: MakePost, live_server: str, page: Page
) -> None:
    # "해운|대해|변로", one syllable pair per line, is what a squeezed column read before.
    row = "".join(f"<td>해운대해변로 {n}번길</td>" for n in range(6))
    body = f"<table><tbody><tr>{row}</tr></tbody></table><p>뒤 문단</p>"
    slug = make_post(title="도로 통제", source=body, source_format="html")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/posts/{slug}")
    lines = page.locator(".post-body td").first.evaluate(
        "el => { const range = document.createRange(); const text = el.firstChild;"
        " range.setStart(text, 0); range.setEnd(text, '해운대해변로'.length);"
        " return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }"
    )
    assert lines == 1  # the word is on one line
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    table = page.locator(".post-body table")
    assert table.evaluate("el => el.scrollWidth > el.clientWidth")  # it scrolls in its box
    screenshot(page, "tistory-table-words-phone")
