"""Markdown posts in Chromium: the toolbar edits the Markdown text (and readers get what it
wrote), and switching a post between Markdown and HTML converts it only after asking."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import BrowserContext, Dialog, Page, expect

from blog.content.settings import set_setting
from blog.database import writing
from tests.browser.test_editor import png_bytes, sign_in, watch_errors
from tests.browser.test_visual_editor import no_csp_violations, post_id, rendering, served_body
from tests.conftest import Login, MakePost

pytestmark = pytest.mark.usefixtures("editor_user")


def select_text(page: Page, text: str) -> None:
    """Select the first `text` in the body, as a writer's mouse would."""
    page.evaluate(
        """(text) => {
            const body = document.getElementById("body");
            const start = body.value.indexOf(text);
            if (start < 0) throw new Error("not in the body: " + text);
            body.focus();
            body.setSelectionRange(start, start + text.length);
        }""",
        text,
    )


def caret_at(page: Page, text: str) -> None:
    """Put the caret just after the first `text` in the body."""
    select_text(page, text)
    page.evaluate(
        "() => { const b = document.getElementById('body'); b.selectionStart = b.selectionEnd; }"
    )


def selection(page: Page) -> str:
    return page.evaluate(
        "() => { const b = document.getElementById('body');"
        " return b.value.slice(b.selectionStart, b.selectionEnd); }"
    )


def answer_dialogs(page: Page, *answers: str | None) -> list[str]:
    """Answer the next dialogs in turn (None dismisses) and return their messages; with no
    answers, dismiss every dialog from now on."""
    messages: list[str] = []
    remaining = list(answers)

    def on_dialog(dialog: Dialog) -> None:
        messages.append(dialog.message)
        answer = remaining.pop(0) if remaining else None
        if answers and not remaining:
            page.remove_listener("dialog", on_dialog)
        if answer is None:
            dialog.dismiss()
        else:
            dialog.accept(answer)

    page.on("dialog", on_dialog)
    return messages


def toolbar_button(page: Page, name: str) -> object:
    return page.get_by_role("toolbar").get_by_role("button", name=name, exact=True)


def new_markdown_post(page: Page, live_server: str, body: str) -> None:
    page.goto(live_server + "/admin/posts/new")
    page.get_by_label("Title").fill("서식 도구로 쓴 글")
    page.get_by_label("Status").select_option("published")
    expect(page.get_by_label("Format", exact=True)).to_have_value("markdown")
    page.locator("#body").fill(body)


def test_every_toolbar_button_writes_markdown_that_readers_get(
    live_server: str, csp_context: BrowserContext
) -> None:
    page = csp_context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_server, "kim")
    new_markdown_post(
        page,
        live_server,
        "동맹 소식\n\n굵게 쓸 말, 기울일 말, 링크할 말, 코드인 말.\n사과\n배\n\n"
        "첫째\n둘째\n\n인용할 말",
    )
    toolbar = page.get_by_role("toolbar", name="Writing tools")
    expect(toolbar).to_be_visible()
    expect(page.locator(".visual-toolbar")).to_be_hidden()

    caret_at(page, "동맹")
    toolbar_button(page, "Heading 2").click()
    select_text(page, "굵게 쓸 말")
    toolbar_button(page, "Bold").click()
    assert selection(page) == "굵게 쓸 말"
    select_text(page, "기울일 말")
    toolbar_button(page, "Italic").click()
    select_text(page, "링크할 말")
    answer_dialogs(page, "https://example.com/한미 동맹")
    toolbar_button(page, "Link").click()
    select_text(page, "코드인 말")
    toolbar_button(page, "Code").click()
    select_text(page, "사과\n배")
    toolbar_button(page, "Bulleted list").click()
    select_text(page, "첫째\n둘째")
    toolbar_button(page, "Numbered list").click()
    caret_at(page, "인용할")
    toolbar_button(page, "Quote").click()
    expect(page.locator("#body")).to_have_value(
        "## 동맹 소식\n\n**굵게 쓸 말**, *기울일 말*, [링크할 말](https://example.com/한미%20동맹),"
        " `코드인 말`.\n\n- 사과\n- 배\n\n1. 첫째\n2. 둘째\n\n> 인용할 말"
    )

    # The image button: choose a file, say what it shows, and it goes in at the caret.
    caret_at(page, "인용할 말")
    questions = answer_dialogs(page, "파란 사각형")
    with page.expect_file_chooser() as chooser:
        toolbar_button(page, "Image").click()
    chooser.value.set_files(
        files=[{"name": "blue.png", "mimeType": "image/png", "buffer": png_bytes((20, 120, 200))}]
    )
    expect(page.locator("#body")).to_have_value(
        re.compile(r"> 인용할 말\n!\[파란 사각형\]\(/media/[0-9a-f]{64}/blue\.png\)\n$")
    )
    assert any("alt text" in question for question in questions)
    expect(page.locator("#preview .post-body strong")).to_have_text("굵게 쓸 말")

    page.locator("#save-button").click()
    expect(page.locator(".flash")).to_have_text("Published.")
    page.get_by_role("link", name="View post").click()
    article = page.locator(".post-body")
    expect(article.locator("h2")).to_have_text("동맹 소식")
    expect(article.locator("strong")).to_have_text("굵게 쓸 말")
    expect(article.locator("em")).to_have_text("기울일 말")
    expect(article.locator("a", has_text="링크할 말")).to_have_attribute(
        "href", "https://example.com/한미%20동맹"
    )
    expect(article.locator("code")).to_have_text("코드인 말")
    expect(article.locator("ul > li")).to_have_text(["사과", "배"])
    expect(article.locator("ol > li")).to_have_text(["첫째", "둘째"])
    expect(article.locator("blockquote")).to_contain_text("인용할 말")
    expect(article.locator("img[src^='/media/']")).to_have_attribute("alt", "파란 사각형")
    no_csp_violations(page, errors)


def test_buttons_and_shortcuts_take_their_mark_off_again(
    live_server: str, csp_context: BrowserContext
) -> None:
    page = csp_context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_server, "kim")
    new_markdown_post(page, live_server, "대통령실 발표\n사과\n배")
    body = page.locator("#body")

    select_text(page, "대통령실")
    page.keyboard.press("Control+b")
    expect(body).to_have_value("**대통령실** 발표\n사과\n배")
    assert selection(page) == "대통령실"
    page.keyboard.press("Control+i")
    expect(body).to_have_value("***대통령실*** 발표\n사과\n배")
    page.keyboard.press("Control+b")
    expect(body).to_have_value("*대통령실* 발표\n사과\n배")
    page.keyboard.press("Control+i")
    expect(body).to_have_value("대통령실 발표\n사과\n배")
    # The browser's undo takes the toolbar's edits back one by one.
    page.keyboard.press("Control+z")
    expect(body).to_have_value("*대통령실* 발표\n사과\n배")

    # With nothing selected, the marks go around the caret and typing goes between them.
    caret_at(page, "발표")
    page.keyboard.type(" ")
    page.keyboard.press("Control+b")
    page.keyboard.type("속보")
    expect(body).to_have_value("*대통령실* 발표 **속보**\n사과\n배")

    # Ctrl+K links the selection; the same key on the link offers its address, and an
    # empty answer takes the link off.
    select_text(page, "속보")
    questions = answer_dialogs(page, "https://example.com/a", "")
    page.keyboard.press("Control+k")
    expect(body).to_have_value("*대통령실* 발표 **[속보](https://example.com/a)**\n사과\n배")
    page.keyboard.press("Control+k")
    expect(body).to_have_value("*대통령실* 발표 **속보**\n사과\n배")
    assert questions == ["Link address (empty to remove the link)"] * 2

    # Lines: marked, then unmarked; the list is set off from the paragraph above it, as
    # Python-Markdown needs, and a bulleted list becomes a numbered one in one click.
    select_text(page, "사과\n배")
    toolbar_button(page, "Bulleted list").click()
    expect(body).to_have_value("*대통령실* 발표 **속보**\n\n- 사과\n- 배")
    select_text(page, "- 사과\n- 배")
    toolbar_button(page, "Numbered list").click()
    expect(body).to_have_value("*대통령실* 발표 **속보**\n\n1. 사과\n2. 배")
    select_text(page, "1. 사과\n2. 배")
    toolbar_button(page, "Numbered list").click()
    expect(body).to_have_value("*대통령실* 발표 **속보**\n\n사과\n배")
    # Several lines of code are fenced, and unfenced again.
    select_text(page, "사과\n배")
    toolbar_button(page, "Code").click()
    expect(body).to_have_value("*대통령실* 발표 **속보**\n\n```\n사과\n배\n```")
    toolbar_button(page, "Code").click()
    expect(body).to_have_value("*대통령실* 발표 **속보**\n\n사과\n배")
    # The buttons work from the keyboard: Tab to one, Enter.
    caret_at(page, "발표")
    page.get_by_role("button", name="Heading 2").focus()
    page.keyboard.press("Enter")
    expect(body).to_have_value("## *대통령실* 발표 **속보**\n\n사과\n배")
    expect(body).to_be_focused()
    expect(page.locator("#preview .post-body h2")).to_contain_text("대통령실 발표 속보")
    # A heading of another level becomes level 2; level 2 becomes a paragraph again.
    page.locator("#body").fill("### 소제목\n\n본문")
    caret_at(page, "소제")
    toolbar_button(page, "Heading 2").click()
    expect(body).to_have_value("## 소제목\n\n본문")
    toolbar_button(page, "Heading 2").click()
    expect(body).to_have_value("소제목\n\n본문")
    assert page.evaluate("document.getElementById('body').selectionStart") == 2
    # Two quoted paragraphs stay one quote; on an empty line the quote is ready for typing.
    page.locator("#body").fill("첫 문단\n\n둘째 문단")
    select_text(page, "첫 문단\n\n둘째 문단")
    toolbar_button(page, "Quote").click()
    expect(body).to_have_value("> 첫 문단\n>\n> 둘째 문단")
    page.locator("#body").fill("")
    toolbar_button(page, "Quote").click()
    page.keyboard.type("인용")
    expect(body).to_have_value("> 인용")
    no_csp_violations(page, errors)


def test_the_markdown_toolbar_is_for_markdown_posts_only(
    live_server: str, csp_context: BrowserContext
) -> None:
    page = csp_context.new_page()
    sign_in(page, live_server, "kim")
    page.goto(live_server + "/admin/posts/new")
    toolbar = page.locator("#markdown-toolbar")
    expect(toolbar).to_be_visible()
    # A Markdown post is offered the visual editor (after a conversion); no "HTML" mode.
    expect(page.get_by_role("button", name="Visual", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="HTML", exact=True)).to_be_hidden()
    page.get_by_label("Format", exact=True).select_option("html")  # empty: nothing to ask
    expect(toolbar).to_be_hidden()
    expect(page.get_by_role("button", name="HTML", exact=True)).to_be_visible()
    page.locator("#body").fill("<p>글</p>")
    page.locator("#body").press("Control+b")
    expect(page.locator("#body")).to_have_value("<p>글</p>")


MARKDOWN = (
    "## 한·미 동맹\n\n대통령실에 따르면 **동맹은 굳건하다**. *속보*는 [여기](https://example.com/a).\n\n"
    "- 첫째\n- 둘째\n\n1. 하나\n2. 둘\n\n> 인용한 말\n\n`코드` 한 줄."
)


def test_markdown_post_opened_visually_becomes_html_after_the_question(
    app: Flask, live_server: str, csp_context: BrowserContext, make_post: MakePost
) -> None:
    slug = make_post(title="한·미 동맹", source=MARKDOWN, source_format="markdown")
    page = csp_context.new_page()
    errors = watch_errors(page)
    before = served_body(page, f"{live_server}/posts/{slug}")
    sign_in(page, live_server, "kim")
    page.goto(f"{live_server}/admin/posts/{post_id(app, slug)}/edit")
    questions = answer_dialogs(page, "")
    page.get_by_role("button", name="Visual", exact=True).click()
    expect(page.locator(".visual-surface .ProseMirror")).to_be_focused()
    assert len(questions) == 1 and "replaced by the HTML it renders to" in questions[0]
    expect(page.get_by_label("Format", exact=True)).to_have_value("html")
    expect(page.locator("#markdown-toolbar")).to_be_hidden()
    expect(page.locator(".visual-toolbar")).to_be_visible()
    expect(page.locator(".visual-surface h2")).to_have_text("한·미 동맹")
    expect(page.locator(".visual-surface strong")).to_have_text("동맹은 굳건하다")
    html = page.locator("#body").input_value()
    assert html.startswith("<h2") and "<strong>동맹은 굳건하다</strong>" in html
    assert "**" not in html
    expect(page.locator("#preview .post-body strong")).to_have_text("동맹은 굳건하다")

    page.locator("#save-button").click()
    expect(page.locator(".flash")).to_be_visible()
    expect(page.get_by_label("Format", exact=True)).to_have_value("html")
    assert rendering(served_body(page, f"{live_server}/posts/{slug}")) == rendering(before)
    no_csp_violations(page, errors)


def test_declining_the_conversion_changes_nothing(
    app: Flask, live_server: str, csp_context: BrowserContext, make_post: MakePost
) -> None:
    slug = make_post(source=MARKDOWN, source_format="markdown")
    page = csp_context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_server, "kim")
    page.goto(f"{live_server}/admin/posts/{post_id(app, slug)}/edit")
    format_select = page.get_by_label("Format", exact=True)
    questions = answer_dialogs(page, None, None)
    format_select.select_option("html")
    expect(format_select).to_have_value("markdown")
    page.get_by_role("button", name="Visual", exact=True).click()
    expect(page.locator("#body")).to_be_visible()
    assert len(questions) == 2 and all("Convert this post to HTML" in q for q in questions)
    expect(page.locator(".visual-surface")).to_have_count(0)
    expect(page.locator("#body")).to_have_value(MARKDOWN)
    expect(format_select).to_have_value("markdown")
    expect(page.locator("#markdown-toolbar")).to_be_visible()
    expect(page.locator("#preview .post-body strong")).to_have_text("동맹은 굳건하다")
    no_csp_violations(page, errors)


def test_switching_back_before_changing_anything_restores_the_markdown(
    app: Flask, live_server: str, csp_context: BrowserContext, make_post: MakePost
) -> None:
    slug = make_post(source=MARKDOWN, source_format="markdown")
    page = csp_context.new_page()
    sign_in(page, live_server, "kim")
    page.goto(f"{live_server}/admin/posts/{post_id(app, slug)}/edit")
    format_select = page.get_by_label("Format", exact=True)
    questions = answer_dialogs(page, "")
    format_select.select_option("html")
    expect(page.locator("#body")).to_have_value(re.compile(r"^<h2"))
    expect(format_select).to_have_value("html")
    format_select.select_option("markdown")
    expect(page.locator("#body")).to_have_value(MARKDOWN)
    expect(format_select).to_have_value("markdown")
    assert len(questions) == 1


def test_html_post_read_as_markdown_only_after_the_question_and_keeps_its_html(
    app: Flask, live_server: str, csp_context: BrowserContext, make_post: MakePost
) -> None:
    source = (
        '<p>요약 <b><span style="color: #ee2323;">빨간 글</span></b></p>\n\n    <p>들여 쓴 줄</p>'
    )
    slug = make_post(source=source, source_format="html")
    page = csp_context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_server, "kim")
    page.goto(f"{live_server}/admin/posts/{post_id(app, slug)}/edit")
    format_select = page.get_by_label("Format", exact=True)
    questions = answer_dialogs(page, None, "")
    format_select.select_option("markdown")
    expect(format_select).to_have_value("html")
    expect(page.locator("#markdown-toolbar")).to_be_hidden()
    format_select.select_option("markdown")
    expect(format_select).to_have_value("markdown")
    expect(page.locator("#markdown-toolbar")).to_be_visible()
    assert len(questions) == 2
    assert "stays exactly as it is" in questions[0] and "indented" in questions[0]
    expect(page.locator("#body")).to_have_value(source)
    # Read as Markdown, the indented line is now code: the preview shows it.
    expect(page.locator("#preview .post-body pre code")).to_have_text("<p>들여 쓴 줄</p>")
    no_csp_violations(page, errors)


def test_an_empty_body_changes_format_without_a_question(
    live_server: str, csp_context: BrowserContext
) -> None:
    page = csp_context.new_page()
    sign_in(page, live_server, "kim")
    page.goto(live_server + "/admin/posts/new")
    questions = answer_dialogs(page)
    page.get_by_role("button", name="Visual", exact=True).click()
    expect(page.locator(".visual-surface .ProseMirror")).to_be_focused()
    expect(page.get_by_label("Format", exact=True)).to_have_value("html")
    page.get_by_label("Format", exact=True).select_option("markdown")
    expect(page.locator("#body")).to_be_visible()
    expect(page.locator("#markdown-toolbar")).to_be_visible()
    assert questions == []


def test_without_javascript_the_format_select_is_the_plain_form(
    client: FlaskClient, login: Login, make_post: MakePost, app: Flask
) -> None:
    login("editor")
    slug = make_post(source="**굵게**", source_format="markdown")
    html = client.get(f"/admin/posts/{post_id(app, slug)}/edit").text
    toolbar = html[html.index('id="markdown-toolbar"') : html.index("<textarea")]
    # Hidden until the script shows it, and nothing in it is sent with the form.
    assert re.search(r'<div class="markdown-toolbar" id="markdown-toolbar"[^>]* hidden\b', html)
    assert " name=" not in toolbar and "<input" not in toolbar
    assert re.search(r'<textarea[^>]*id="body"[^>]*>\s*\*\*굵게\*\*</textarea>', html)
    assert re.search(r'<select[^>]*id="format"[^>]*name="format"', html)
    # Every button is named, in Korean for a Korean blog.
    with app.app_context(), writing():
        set_setting("language", "ko")
    korean = client.get(f"/admin/posts/{post_id(app, slug)}/edit").text
    names = re.findall(r'data-markdown="\w+" aria-label="([^"]+)"', korean)
    assert names == [
        "제목 2",
        "굵게",
        "기울임",
        "링크",
        "글머리 기호 목록",
        "번호 목록",
        "인용",
        "코드",
        "이미지",
    ]
    for script in ("markdown-toolbar", "format-switch"):
        assert re.search(rf'<script src="/static/js/{script}\.[^"]+\.js" defer>', html)
        assert script not in client.get("/admin/").text
