"""Pasting into the visual editor (frontend/visual-editor/src/paste.js) in Chromium: HTML from
Tistory, Word and Google Docs keeps what the writer meant and drops how the source typeset it,
is sanitised by the server before the page parses it, and lands in one undo step; plain text
becomes paragraphs; an image file is uploaded."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.test_editor import png_bytes, sign_in, watch_errors
from tests.browser.test_visual_editor import (
    no_csp_violations,
    open_visual,
    rendering,
    sample_body,
    served_body,
)
from tests.browser.test_visual_ime import one_line
from tests.conftest import MakePost

FIXTURES = Path(__file__).parents[2] / "tests" / "fixtures"


def paste(page: Page, html: str | None = None, text: str = "") -> None:
    """A real paste event, with the clipboard's data, on the editor's surface."""
    page.evaluate(
        """([html, text]) => {
            const transfer = new DataTransfer();
            if (html !== null) transfer.setData("text/html", html);
            if (text) transfer.setData("text/plain", text);
            const surface = document.querySelector(".visual-surface .ProseMirror");
            surface.dispatchEvent(new ClipboardEvent("paste",
                {clipboardData: transfer, bubbles: true, cancelable: true}));
        }""",
        [html, text],
    )


def kept_of(written: str, *dropped: str) -> list[str]:
    """Which of the `dropped` fragments are still in `written` (none, when the paste is tidy)."""
    return [fragment for fragment in dropped if fragment in written]


def paste_image(page: Page, target: str, png: bytes) -> None:
    """A screenshot pasted: the clipboard holds one image file and no text."""
    page.evaluate(
        """([target, data]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "image.png", {type: "image/png"}));
            document.querySelector(target).dispatchEvent(new ClipboardEvent("paste",
                {clipboardData: transfer, bubbles: true, cancelable: true}));
        }""",
        [target, base64.b64encode(png).decode()],
    )


def new_visual_post(page: Page, live_server: str, title: str) -> None:
    sign_in(page, live_server, "kim")
    page.goto(live_server + "/admin/posts/new")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Format", exact=True).select_option("html")
    page.get_by_label("Status").select_option("published")
    open_visual(page)


def publish(page: Page) -> None:
    page.locator("#save-button").click()
    expect(page.locator(".flash")).to_have_text("Published.")
    page.get_by_role("link", name="View post").click()


@pytest.mark.usefixtures("editor_user")
def test_the_sample_pasted_into_an_empty_post_reads_like_the_sample(
    live_server: str, csp_context: BrowserContext, make_post: MakePost
) -> None:
    source = sample_body()
    original = make_post(title="원본", source=source, source_format="html")
    page = csp_context.new_page()
    errors = watch_errors(page)
    new_visual_post(page, live_server, "붙여 넣은 글")
    paste(page, source, "한·미 동맹과 글로벌 포괄 전략")
    expect(page.locator("#body")).to_have_value(re.compile("마무리"))
    written = page.locator("#body").input_value()
    assert "data-visual" not in written
    publish(page)
    pasted = served_body(page, page.url)
    assert rendering(pasted) == rendering(served_body(page, f"{live_server}/posts/{original}"))
    red = page.locator(".post-body b", has_text="대통령실에 따르면")
    expect(red).to_have_css("color", "rgb(238, 35, 35)")
    no_csp_violations(page, errors)


@pytest.mark.usefixtures("editor_user")
def test_word_keeps_headings_colours_lists_and_tables_and_drops_its_typesetting(
    live_server: str, csp_context: BrowserContext
) -> None:
    page = csp_context.new_page()
    errors = watch_errors(page)
    new_visual_post(page, live_server, "워드에서 온 글")
    paste(page, (FIXTURES / "paste-word.html").read_text(), "한·미 동맹의 내일")
    body = page.locator("#body")
    expect(body).to_have_value(re.compile("출처"))
    written = one_line(body.input_value())
    assert kept_of(written, "class=", "Mso", "mso-", "o:p", "<!--", "font-family", "font-size",
        "line-height", "lang=", "margin", "padding:", "225.4pt", 'width="301"',
        "Symbol", "<p>·", "<li>·", "<style", "WordDocument") == []  # fmt: skip
    assert "<h2>한·미 동맹의 내일</h2>" in written
    assert re.search(r'<span style="color: #EE2323;?"><b>동맹은 굳건하다</b></span>', written)
    assert re.search(
        r"<ul><li>정기적인 정상 회담 개최\s*<ol><li>한 해에 두 번</li></ol></li>"
        r"<li>경제 및 기술 협력 확대</li></ul>",
        written,
    )
    assert re.search(
        r'<p style="text-align: center;?" align="center">'
        r'<span style="background-color: yellow;?"><i>가운데 강조</i></span></p>',
        written,
    )
    assert written.count("<td") == 2 and "border: solid windowtext 1.0pt" in written
    assert '<a href="https://newsdao.kr/">뉴스다오</a>' in written

    publish(page)
    red = page.locator(".post-body b", has_text="동맹은 굳건하다")
    expect(red).to_have_css("color", "rgb(238, 35, 35)")
    expect(red).to_have_css("font-weight", "700")
    highlighted = page.locator(".post-body span", has_text="가운데 강조")
    expect(highlighted).to_have_css("background-color", "rgb(255, 255, 0)")
    expect(page.locator(".post-body p", has_text="가운데 강조")).to_have_css("text-align", "center")
    expect(page.locator(".post-body ul > li")).to_have_count(2)
    expect(page.locator(".post-body ul > li > ol > li")).to_have_text("한 해에 두 번")
    expect(page.locator(".post-body td", has_text="인적 교류 증진").locator("p")).to_have_css(
        "text-align", "center"
    )
    expect(page.locator(".post-body td span", has_text="인적 교류 증진")).to_have_css(
        "color", "rgb(26, 84, 144)"
    )
    # The theme's font, not Word's.
    theme_font = page.locator("body").evaluate("e => getComputedStyle(e).fontFamily")
    expect(page.locator(".post-body p", has_text="대통령실은")).to_have_css(
        "font-family", theme_font
    )
    no_csp_violations(page, errors)


@pytest.mark.usefixtures("editor_user")
def test_google_docs_spans_become_bold_italic_underline_and_strikethrough(
    live_server: str, csp_context: BrowserContext
) -> None:
    page = csp_context.new_page()
    errors = watch_errors(page)
    new_visual_post(page, live_server, "구글 문서에서 온 글")
    paste(page, (FIXTURES / "paste-google-docs.html").read_text(), "동맹의 미래")
    body = page.locator("#body")
    expect(body).to_have_value(re.compile("뉴스다오"))
    written = one_line(body.input_value())
    assert kept_of(written, "docs-internal-guid", "font-weight", "font-style", "font-family",
        "font-size", "#000000", "transparent", "white-space", "dir=", "line-height",
        "text-decoration", "#1155cc", "<br", "<li><p") == []  # fmt: skip
    assert written.startswith("<h2>동맹의 미래</h2><p>보통 글 ")
    assert re.search(r'<span style="color: #ee2323;?"><b>굵은 빨간 글</b></span>', written)
    assert "<i> 기울인 글</i>" in written
    assert re.search(
        r'<span style="background-color: #fff2cc;?"><u> 밑줄 친 형광</u></span>', written
    )
    assert "<s> 취소선</s>" in written
    assert "<ul><li>첫째 항목</li><li>둘째 항목</li></ul>" in written
    assert written.endswith('<p><a href="https://newsdao.kr/">뉴스다오</a></p>')

    publish(page)
    bold = page.locator(".post-body b", has_text="굵은 빨간 글")
    expect(bold).to_have_css("font-weight", "700")
    expect(bold).to_have_css("color", "rgb(238, 35, 35)")
    expect(page.locator(".post-body i")).to_have_css("font-style", "italic")
    expect(page.locator(".post-body u")).to_have_css("text-decoration-line", "underline")
    expect(page.locator(".post-body s")).to_have_css("text-decoration-line", "line-through")
    no_csp_violations(page, errors)


@pytest.mark.usefixtures("editor_user")
def test_a_tistory_page_copied_in_chromium_keeps_its_colours_but_not_the_pages_own(
    live_server: str, csp_context: BrowserContext
) -> None:
    """Chromium writes the page's computed style (grey text, white paper, its fonts) on the
    copied blocks: the writer's red and highlight stay, the page's grey and white go."""
    page = csp_context.new_page()
    errors = watch_errors(page)
    new_visual_post(page, live_server, "티스토리 글 복사")
    paste(page, (FIXTURES / "paste-tistory-page.html").read_text(), "한·미 관계의 중요성")
    body = page.locator("#body")
    expect(body).to_have_value(re.compile("가운데 형광 문장"))
    written = body.input_value()
    assert kept_of(written, "51, 51, 51", "255, 255, 255", "font", "margin", "line-height",
        "start", "initial", "letter-spacing", "text-indent") == []  # fmt: skip
    assert written.startswith('<h2 data-ke-size="size26">한·미 관계의 중요성</h2>')
    assert re.search(
        r'<span style="color: rgb\(238, 35, 35\);?"><b>이 동맹은 다양한 분야에서', written
    )
    assert re.search(
        r'<span style="background-color: rgba\(33, 83, 133, 0.15\);?">가운데 형광 문장', written
    )

    publish(page)
    theme_ink = page.locator(".post-body").evaluate("e => getComputedStyle(e).color")
    plain = page.locator(".post-body p", has_text="역사적으로")
    expect(plain).to_have_css("color", theme_ink)
    expect(plain).to_have_css("background-color", "rgba(0, 0, 0, 0)")
    red = page.locator(".post-body b", has_text="이 동맹은")
    expect(red).to_have_css("color", "rgb(238, 35, 35)")
    expect(page.locator(".post-body p", has_text="가운데 형광 문장")).to_have_css(
        "text-align", "center"
    )
    no_csp_violations(page, errors)


@pytest.mark.usefixtures("editor_user")
def test_hostile_html_pasted_leaves_nothing_that_runs(
    live_server: str, csp_context: BrowserContext
) -> None:
    page = csp_context.new_page()
    errors = watch_errors(page)
    new_visual_post(page, live_server, "위험한 붙여 넣기")
    hostile = (
        '<p>앞 글<img src="/media/no-such-image.png" alt="없는 그림" '
        'onerror="window.pasteRan = 1"><script>window.pasteRan = 2</script>'
        '<a href="javascript:window.pasteRan = 3">링크</a>'
        '<span onclick="window.pasteRan = 4" style="color: #ee2323">뒤 글</span></p>'
        '<style>p { display: none }</style><iframe src="https://example.com/"></iframe>'
    )
    with page.expect_response(lambda response: "/media/no-such-image.png" in response.url):
        paste(page, hostile, "앞 글 링크 뒤 글")
    expect(page.locator("#body")).to_have_value(re.compile("뒤 글"))
    written = page.locator("#body").input_value()
    assert kept_of(written, "onerror", "onclick", "script", "javascript", "pasteRan",
        "iframe", "style>", "example.com", "display") == []  # fmt: skip
    assert re.search(
        r'^<p>앞 글<img src="/media/no-such-image.png" alt="없는 그림">링크'
        r'<span style="color: #ee2323;?">뒤 글</span></p>$',
        written,
    )
    assert page.evaluate("window.pasteRan") is None
    no_csp_violations(page, errors)


@pytest.mark.usefixtures("editor_user")
def test_plain_text_pastes_as_paragraphs_and_undoes_in_one_step(
    live_server: str, csp_context: BrowserContext
) -> None:
    page = csp_context.new_page()
    errors = watch_errors(page)
    new_visual_post(page, live_server, "일반 글")
    page.keyboard.type("앞 글 ")
    text = "첫 문단 첫 줄\r\n첫 문단 둘째 줄\n\n둘째 문단\n \n\n\n셋째 문단\n"
    paste(page, None, text)
    body = page.locator("#body")
    # One block per line, as the editor writes them (a diff names the paragraph changed).
    expect(body).to_have_value(
        "<p>앞 글 첫 문단 첫 줄<br>첫 문단 둘째 줄</p>\n<p>둘째 문단</p>\n<p>셋째 문단</p>"
    )
    page.keyboard.type("끝")
    expect(body).to_have_value(re.compile("<p>셋째 문단끝</p>$"))
    # The typing, then the paste: each is one undo step.
    page.keyboard.press("Control+z")
    expect(body).to_have_value(re.compile("<p>셋째 문단</p>$"))
    page.keyboard.press("Control+z")
    expect(body).to_have_value("<p>앞 글 </p>")
    page.keyboard.press("Control+Shift+z")
    expect(body).to_have_value(re.compile("<p>셋째 문단</p>$"))

    # HTML pasted is one undo step as well, whatever the server's round trip.
    paste(page, "<p><b>굵은 글</b></p><p>다음 문단</p>", "굵은 글\n\n다음 문단")
    expect(body).to_have_value(re.compile("<p>셋째 문단<b>굵은 글</b></p>\n<p>다음 문단</p>$"))
    page.keyboard.press("Control+z")
    expect(body).to_have_value(re.compile("<p>셋째 문단</p>$"))
    no_csp_violations(page, errors)


@pytest.mark.usefixtures("editor_user")
def test_a_pasted_image_file_is_uploaded_with_the_alt_text_asked_for(
    live_server: str, csp_context: BrowserContext
) -> None:
    page = csp_context.new_page()
    errors = watch_errors(page)
    new_visual_post(page, live_server, "그림 붙여 넣기")
    page.keyboard.type("그림 앞 ")
    page.once("dialog", lambda dialog: dialog.accept("붙여 넣은 파란 사각형"))
    paste_image(page, ".visual-surface .ProseMirror", png_bytes((20, 120, 200)))
    image = page.locator(".visual-surface img[src^='/media/']")
    expect(image).to_have_attribute("alt", "붙여 넣은 파란 사각형")
    expect(page.locator("#body")).to_have_value(
        re.compile(
            r'^<p>그림 앞 <img src="/media/[0-9a-f]{64}/image\.png" alt="붙여 넣은 파란 사각형">'
        )
    )
    no_csp_violations(page, errors)


@pytest.mark.usefixtures("editor_user")
def test_an_image_file_pasted_into_the_markdown_textarea_is_uploaded_too(
    live_server: str, csp_context: BrowserContext
) -> None:
    page = csp_context.new_page()
    sign_in(page, live_server, "kim")
    page.goto(live_server + "/admin/posts/new")
    page.get_by_label("Format", exact=True).select_option("markdown")
    page.locator("#body").fill("그림 앞\n")
    page.once("dialog", lambda dialog: dialog.accept("붙여 넣은 빨간 사각형"))
    paste_image(page, "#body", png_bytes((200, 40, 40)))
    expect(page.locator("#body")).to_have_value(
        re.compile(r"!\[붙여 넣은 빨간 사각형\]\(/media/[0-9a-f]{64}/image\.png\)")
    )


@pytest.mark.usefixtures("editor_user")
def test_control_v_pastes_what_the_clipboard_holds(
    live_server: str, csp_context: BrowserContext
) -> None:
    """The keyboard's paste (a trusted event with the system clipboard) takes the same way."""
    csp_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = csp_context.new_page()
    errors = watch_errors(page)
    new_visual_post(page, live_server, "키보드로 붙여 넣기")
    page.evaluate(
        """(html) => navigator.clipboard.write([new ClipboardItem({
            "text/html": new Blob([html], {type: "text/html"}),
            "text/plain": new Blob(["동맹의 미래"], {type: "text/plain"}),
        })])""",
        (FIXTURES / "paste-google-docs.html").read_text(),
    )
    page.keyboard.press("Control+v")
    expect(page.locator("#body")).to_have_value(
        re.compile(r'<span style="color: #ee2323;?"><b>굵은 빨간 글</b></span>')
    )
    assert "docs-internal-guid" not in page.locator("#body").input_value()
    no_csp_violations(page, errors)


@pytest.mark.usefixtures("editor_user")
def test_html_dragged_in_from_elsewhere_is_sanitised_like_a_paste(
    live_server: str, csp_context: BrowserContext
) -> None:
    """A selection dragged from another page: ProseMirror would parse its HTML as it came,
    so it goes through the server's sanitiser and the paste's tidying, to where it lands."""
    page = csp_context.new_page()
    errors = watch_errors(page)
    new_visual_post(page, live_server, "끌어 온 글")
    page.keyboard.type("첫 문단")
    page.evaluate(
        """() => {
            const transfer = new DataTransfer();
            transfer.setData("text/html",
                '<p class="x" style="position: fixed; font-family: Gulim">'
                + '<span style="color: #ee2323"><b>끌어 온 굵은 글</b></span>'
                + '<img src="/media/none.png" alt="" onerror="window.ran = 1"></p>'
                + '<script>window.ran = 2</script>');
            transfer.setData("text/plain", "끌어 온 굵은 글");
            const line = document.querySelector(".visual-surface .ProseMirror p");
            const box = line.getBoundingClientRect();
            const options = {dataTransfer: transfer, bubbles: true, cancelable: true,
                clientX: box.right - 2, clientY: box.top + box.height / 2};
            line.dispatchEvent(new DragEvent("dragover", options));
            line.dispatchEvent(new DragEvent("drop", options));
        }"""
    )
    body = page.locator("#body")
    expect(body).to_have_value(re.compile("끌어 온 굵은 글"))
    written = body.input_value()
    assert written.startswith("<p>첫 문단")
    assert re.search(r'<span style="color: #ee2323;?"><b>끌어 온 굵은 글</b></span>', written)
    assert kept_of(written, "onerror", "script", "class=", "position", "font-family") == []
    assert page.evaluate("window.ran") is None
    no_csp_violations(page, errors)
