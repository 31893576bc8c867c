"""Korean input in the visual editor, through Chromium's IME emulation (the DevTools
protocol's Input.imeSetComposition and Input.insertText, as a Hangul IME drives the page):
syllables are never duplicated, dropped or split, and neither the textarea write-back nor
the live preview nor autosave touches a syllable while it is being composed."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, CDPSession, Locator, Page, expect

from tests.browser.test_editor import sign_in, watch_errors
from tests.browser.test_visual_editor import (
    no_csp_violations,
    open_visual,
    post_id,
    served_body,
)
from tests.conftest import MakePost

# The 19 initial consonants in syllable order, as the compatibility jamo an IME shows alone.
INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"


# Kept before the page's scripts run: CSP violations, and what happened while composing.
def composition_stages(syllable: str) -> list[str]:
    """What a two-set (두벌식) IME shows while a syllable is typed: 한 is ㅎ, 하, 한."""
    index = ord(syllable) - 0xAC00
    if not 0 <= index < 11172:
        return [syllable]
    initial, final = index // 588, index % 28
    stages = [INITIALS[initial], chr(0xAC00 + index - final)]
    if final:
        stages.append(syllable)
    return stages


def show_composing(ime: CDPSession, stages: list[str]) -> None:
    """Each stage of a syllable shown by the IME, the caret after it, nothing committed."""
    for text in stages:
        ime.send(
            "Input.imeSetComposition",
            {"text": text, "selectionStart": len(text), "selectionEnd": len(text)},
        )


def compose(ime: CDPSession, stages: list[str], committed: str | None = None) -> None:
    """One composition: each stage shown, then committed."""
    show_composing(ime, stages)
    ime.send("Input.insertText", {"text": stages[-1] if committed is None else committed})


def type_hangul(ime: CDPSession, text: str) -> None:
    """Type `text` syllable by syllable; anything else (a space) is inserted as it is."""
    for syllable in text:
        if "가" <= syllable <= "힣":
            compose(ime, composition_stages(syllable))
        else:
            ime.send("Input.insertText", {"text": syllable})


def ime_session(page: Page) -> CDPSession:
    return page.context.new_cdp_session(page)


def one_line(html: str) -> str:
    """The HTML without the line breaks between blocks (a space between two words in
    different inline elements stays)."""
    return re.sub(r">[ \t]*\n\s*<", "><", html).strip()


def surface(page: Page) -> Locator:
    return page.locator(".visual-surface .ProseMirror")


def test_composition_stages_follow_the_two_set_keyboard() -> None:
    assert composition_stages("한") == ["ㅎ", "하", "한"]
    assert composition_stages("어") == ["ㅇ", "어"]
    assert composition_stages("뷁") == ["ㅂ", "붸", "뷁"]
    assert composition_stages(" ") == [" "]


@pytest.mark.usefixtures("editor_user")
def test_hangul_composed_at_a_paragraph_start_in_bold_in_a_list_and_in_a_table(
    app: Flask, live_server: str, ime_context: BrowserContext, make_post: MakePost
) -> None:
    source = (
        "<p>첫 문단</p>\n<p>앞 <b>굵은 글씨</b> 뒤</p>\n<ul><li>목록 항목</li></ul>\n"
        "<table><tbody><tr><td>표 칸</td><td>둘째 칸</td></tr></tbody></table>"
    )
    slug = make_post(title="입력기 시험", source=source, source_format="html")
    page = ime_context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_server, "kim")
    page.goto(f"{live_server}/admin/posts/{post_id(app, slug)}/edit")
    open_visual(page)
    ime = ime_session(page)

    # At the start of a paragraph.
    page.keyboard.press("Control+Home")
    type_hangul(ime, "한국어")
    # Inside bold text, between 굵 and 은.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Home")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    type_hangul(ime, "한글")
    # At the end of a list item, and a syllable whose last consonant moves on: 간 + ㅏ
    # is 가 and 나 (the IME commits 가 and starts composing 나).
    page.keyboard.press("ArrowDown")
    page.keyboard.press("End")
    compose(ime, ["ㄱ", "가", "간"], committed="가")
    compose(ime, ["나"])
    # In a table cell.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("End")
    page.keyboard.type(" ")
    type_hangul(ime, "입력")
    # At the start of a new, empty paragraph (Enter at the end of the first one).
    page.keyboard.press("Control+Home")
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    type_hangul(ime, "새 문단")

    expected = (
        "<p>한국어첫 문단</p><p>새 문단</p><p>앞 <b>굵한글은 글씨</b> 뒤</p>"
        "<ul><li>목록 항목가나</li></ul>"
        "<table><tbody><tr><td>표 칸 입력</td><td>둘째 칸</td></tr></tbody></table>"
    )
    expect(surface(page)).to_be_focused()
    body = page.locator("#body")
    expect(body).to_have_value(re.compile(r"새 문단"))
    assert one_line(body.input_value()) == expected
    watched = page.evaluate("window.ime")
    assert watched["compositions"] == 12  # one for each syllable above
    assert watched["writes"] == 0

    page.locator("#save-button").click()
    expect(page.locator(".flash")).to_be_visible()
    assert one_line(served_body(page, f"{live_server}/posts/{slug}")) == expected
    no_csp_violations(page, errors)


@pytest.mark.usefixtures("editor_user")
def test_preview_and_autosave_never_interrupt_a_composition(
    live_server: str, ime_context: BrowserContext
) -> None:
    page = ime_context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_server, "kim")
    page.goto(live_server + "/admin/posts/new")
    page.get_by_label("Title").fill("미리 보기와 자동 저장")
    page.get_by_label("Format", exact=True).select_option("html")
    page.get_by_label("Status").select_option("published")
    open_visual(page)
    ime = ime_session(page)
    type_hangul(ime, "한국어 ")

    # 입 half typed (ㅇ, 이): the preview of 한국어 and the autosave land meanwhile.
    show_composing(ime, ["ㅇ", "이"])
    expect(page.locator("#preview .post-body")).to_have_text("한국어")
    page.wait_for_function("() => window.ime.autosaves >= 1", timeout=10_000)
    expect(page.locator("#save-status")).to_contain_text("Draft kept at")
    watched = page.evaluate("window.ime")
    assert watched["composing"] and watched["previews"] >= 1
    # The syllable being composed is the IME's until it is committed: not in the textarea.
    assert page.locator("#body").input_value() == "<p>한국어 </p>"
    expect(surface(page)).to_be_focused()
    expect(surface(page)).to_have_text("한국어 이")

    compose(ime, ["입"])
    type_hangul(ime, "력")
    expect(page.locator("#body")).to_have_value("<p>한국어 입력</p>")
    expect(page.locator("#preview .post-body")).to_have_text("한국어 입력")
    assert page.evaluate("window.ime.writes") == 0
    # Typing goes on where it was: nothing took the focus or moved the caret.
    type_hangul(ime, "은")
    expect(page.locator("#body")).to_have_value("<p>한국어 입력은</p>")

    page.locator("#save-button").click()
    expect(page.locator(".flash")).to_have_text("Published.")
    page.get_by_role("link", name="View post").click()
    expect(page.locator(".post-body")).to_have_text("한국어 입력은")
    no_csp_violations(page, errors)


@pytest.mark.usefixtures("editor_user")
def test_a_syllable_still_composed_when_save_is_clicked_is_saved(
    app: Flask, live_server: str, ime_context: BrowserContext, make_post: MakePost
) -> None:
    slug = make_post(title="저장 직전", source="<p>기사</p>", source_format="html")
    page = ime_context.new_page()
    sign_in(page, live_server, "kim")
    page.goto(f"{live_server}/admin/posts/{post_id(app, slug)}/edit")
    open_visual(page)
    ime = ime_session(page)
    page.keyboard.press("Control+End")
    type_hangul(ime, " 한")
    show_composing(ime, ["ㄱ", "구"])  # 국 half typed, never committed by the IME
    # Chromium commits 구 and scrolls the caret into view between the press on Save and
    # its release: the editor puts the page back, so the release is on Save too.
    page.locator("#save-button").click()
    expect(page.locator(".flash")).to_be_visible()
    assert one_line(served_body(page, f"{live_server}/posts/{slug}")) == "<p>기사 한구</p>"
