"""The visual editor (Tiptap, static/vendor) in Chromium: it changes nothing it does not have
to, writes what the toolbar says, and keeps the CSP and the page without JavaScript intact."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import BrowserContext, Page, Route, expect
from sqlalchemy import select

from blog.extensions import db
from blog.models import Post
from tests.browser.conftest import screenshot
from tests.browser.test_editor import png_bytes, sign_in, watch_errors
from tests.conftest import Login, MakePost

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures"

# Elements whose text sits in lines of its own; everything else is inline formatting.
BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "article", "aside",
          "header", "footer", "address", "figure", "figcaption", "blockquote", "ul", "ol", "li",
          "pre", "hr", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption",
          "colgroup", "col", "dl", "dt", "dd", "details", "summary"}  # fmt: skip
VOID = {"img", "br", "hr", "col", "wbr", "source"}


def after_front_matter(path: Path) -> str:
    return path.read_text().split("\n---\n", 1)[1]


def sample_body() -> str:
    (post,) = (ROOT / "blog" / "sample" / "_posts").glob("*.md")
    return after_front_matter(post)


def tistory_body() -> str:
    """The HTML of tests/fixtures/tistory-post.md (its first line is Markdown)."""
    body = after_front_matter(FIXTURES / "tistory-post.md")
    return body[body.index("<div") :]


class _Rendering(HTMLParser):
    """What a reader sees of sanitised HTML, as comparable tokens: blocks with their
    attributes, and runs of text with the set of inline elements around them. Left out:
    spaces HTML does not render, the nesting order of inline elements (<b><span> and
    <span><b> look the same), spans with no attributes, and the order of declarations
    in a style attribute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple[object, ...]] = []
        self.inline: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        self.stack: list[str] = []
        self.in_pre = 0

    @staticmethod
    def _attributes(attrs: list[tuple[str, str | None]]) -> tuple[tuple[str, str], ...]:
        kept = []
        for name, value in attrs:
            if name == "style" and value:
                declarations = (d.split(":", 1) for d in value.split(";") if ":" in d)
                value = "; ".join(sorted(f"{n.strip()}: {v.strip()}" for n, v in declarations))
            kept.append((name, value or ""))
        return tuple(sorted(kept))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = self._attributes(attrs)
        if tag in BLOCKS:
            self.tokens.append(("open", tag, attributes))
            self.in_pre += tag == "pre"
        elif tag in VOID:
            formatting = frozenset(item for item in self.inline if item != ("span", ()))
            self.tokens.append(("void", tag, attributes, formatting))
        else:
            self.inline.append((tag, attributes))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if tag in BLOCKS:
            self.tokens.append(("close", tag))
            self.in_pre -= tag == "pre"
        elif self.inline:
            self.inline.pop()

    def handle_data(self, data: str) -> None:
        if not self.in_pre:
            data = re.sub(r"[ \t\n\r\f]+", " ", data)
        formatting = frozenset(item for item in self.inline if item != ("span", ()))
        last = self.tokens[-1] if self.tokens else None
        if last and last[0] == "text" and last[2] == formatting:
            self.tokens[-1] = ("text", str(last[1]) + data, formatting)
        else:
            self.tokens.append(("text", data, formatting))

    def result(self) -> list[tuple[object, ...]]:
        # Spaces next to a block's edge are not rendered (outside <pre>).
        tokens = list(self.tokens)
        for index, token in enumerate(tokens):
            if token[0] == "text" and "\n" not in str(token[1]):
                text = str(token[1])
                if index == 0 or tokens[index - 1][0] in {"open", "close"}:
                    text = text.lstrip(" ")
                if index + 1 == len(tokens) or tokens[index + 1][0] in {"open", "close"}:
                    text = text.rstrip(" ")
                tokens[index] = ("text", text, token[2])
        return [token for token in tokens if token[0] != "text" or token[1]]


def rendering(html: str) -> list[tuple[object, ...]]:
    parser = _Rendering()
    parser.feed(html)
    parser.close()
    return parser.result()


class _ArticleBody(HTMLParser):
    """The inner HTML of the served article's <div class="post-body">, as sent."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.depth = 0
        self.start = self.end = -1

    def _offset(self) -> int:
        line, column = self.getpos()
        return sum(len(text) for text in self.source.splitlines(True)[: line - 1]) + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.depth += tag == "div"
        elif tag == "div" and ("class", "post-body") in attrs and self.start < 0:
            self.depth = 1
            self.start = self._offset() + len(str(self.get_starttag_text()))

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag == "div":
            self.depth -= 1
            if not self.depth:
                self.end = self._offset()


def served_body(page: Page, url: str) -> str:
    response = page.request.get(url)
    assert response.status == 200
    parser = _ArticleBody(response.text())
    parser.feed(response.text())
    assert 0 <= parser.start < parser.end
    return parser.source[parser.start : parser.end]


def post_id(app: Flask, slug: str) -> int:
    with app.app_context():
        return db.session.execute(select(Post.id).where(Post.slug == slug)).scalar_one()


def open_visual(page: Page) -> None:
    page.get_by_role("button", name="Visual", exact=True).click()
    expect(page.locator(".visual-surface .ProseMirror")).to_be_visible()
    expect(page.locator("#body")).to_be_hidden()
    # Tiptap focuses the editor at the next animation frame: typing before it would be lost.
    expect(page.locator(".visual-surface .ProseMirror")).to_be_focused()


def no_csp_violations(page: Page, errors: list[str]) -> None:
    assert page.evaluate("window.cspViolations") == []
    # The posts' pictures (the sample's /assets/img/…, the fixtures' other hosts) are not
    # there in the test: the preview and the editor fail to load them, as they should.
    assert [e for e in errors if not e.startswith("Failed to load resource:")] == []


def formatting_body() -> str:
    """Every kind of formatting the toolbar will make, and the elements around it."""
    return (FIXTURES / "visual-round-trip.html").read_text()


@pytest.mark.parametrize(
    "body", [sample_body, tistory_body, formatting_body], ids=["sample", "tistory", "formatting"]
)
@pytest.mark.usefixtures("editor_user")
def test_saving_unchanged_in_visual_mode_keeps_the_page(
    app: Flask,
    live_server: str,
    csp_context: BrowserContext,
    make_post: MakePost,
    body: Callable[[], str],
) -> None:
    source = body()
    slug = make_post(title="한·미 동맹", source=source, source_format="html")
    page = csp_context.new_page()
    errors = watch_errors(page)
    before = served_body(page, f"{live_server}/posts/{slug}")
    sign_in(page, live_server, "kim")
    page.goto(f"{live_server}/admin/posts/{post_id(app, slug)}/edit")
    open_visual(page)
    # A change undone by hand: the textarea now holds what the editor writes.
    page.keyboard.type("가")
    page.keyboard.press("Backspace")
    written = page.locator("#body").input_value()
    assert written != source and "data-visual" not in written
    page.locator("#save-button").click()
    expect(page.locator(".flash")).to_be_visible()
    after = served_body(page, f"{live_server}/posts/{slug}")
    assert rendering(after) == rendering(before)
    no_csp_violations(page, errors)


@pytest.mark.usefixtures("editor_user")
def test_the_mode_chosen_is_the_mode_the_next_post_opens_in(
    app: Flask, live_server: str, csp_context: BrowserContext, make_post: MakePost
) -> None:
    first = post_id(app, make_post(source="<p>첫 글</p>", source_format="html"))
    second = post_id(app, make_post(source="<p>둘째 글</p>", source_format="html"))
    page = csp_context.new_page()
    sign_in(page, live_server, "kim")
    page.goto(f"{live_server}/admin/posts/{first}/edit")
    open_visual(page)
    page.goto(f"{live_server}/admin/posts/{second}/edit")
    expect(page.locator(".visual-surface .ProseMirror")).to_contain_text("둘째 글")
    expect(page.get_by_role("button", name="Visual", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    # Opened for the writer, not focused: the title may be what they came to change.
    expect(page.locator(".visual-surface .ProseMirror")).not_to_be_focused()
    page.get_by_role("button", name="HTML", exact=True).click()
    expect(page.locator("#body")).to_be_visible()
    page.goto(f"{live_server}/admin/posts/{first}/edit")
    expect(page.locator("#body")).to_have_value("<p>첫 글</p>")
    expect(page.locator("#body")).to_be_visible()
    expect(page.locator(".visual-surface")).to_have_count(0)
    # Remembered visual mode never converts a Markdown post by itself (no question either).
    open_visual(page)
    markdown = post_id(app, make_post(source="*마크다운*", source_format="markdown"))
    questions: list[str] = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_server}/admin/posts/{markdown}/edit")
    expect(page.locator("#preview em")).to_have_text("마크다운")
    expect(page.locator("#body")).to_have_value("*마크다운*")
    expect(page.locator(".visual-surface")).to_have_count(0)
    assert questions == []


@pytest.mark.usefixtures("editor_user")
def test_choosing_html_while_visual_mode_opens_leaves_the_textarea(
    app: Flask, live_server: str, csp_context: BrowserContext, make_post: MakePost
) -> None:
    """The server's answer comes late: the writer chose HTML meanwhile, or typed. Nothing
    opens over their choice, and nothing they typed is overwritten."""
    post = post_id(app, make_post(source="<p>본문</p>", source_format="html"))
    page = csp_context.new_page()
    sign_in(page, live_server, "kim")
    held: list[Route] = []
    page.route("**/admin/posts/editable-html", lambda route: held.append(route))
    page.goto(f"{live_server}/admin/posts/{post}/edit")
    page.get_by_role("button", name="Visual", exact=True).click()
    page.wait_for_function("() => document.querySelector('#body').readOnly")
    page.get_by_role("button", name="HTML", exact=True).click()
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator("#body")).not_to_have_js_property("readOnly", True)
    page.locator("#body").press("End")
    page.locator("#body").press_sequentially("<p>더</p>")
    expect(page.locator(".visual-surface")).to_have_count(0)
    expect(page.locator("#body")).to_have_value("<p>본문</p><p>더</p>")


@pytest.mark.usefixtures("editor_user")
def test_aligning_bare_text_keeps_the_alignment(
    app: Flask, live_server: str, csp_context: BrowserContext, make_post: MakePost
) -> None:
    """Text straight in a list item (as Tistory writes it) aligned from the toolbar: the
    alignment goes to the item, which is what a reader then sees."""
    post = post_id(app, make_post(source="<ul><li>항목</li></ul><p>문단</p>", source_format="html"))
    page = csp_context.new_page()
    sign_in(page, live_server, "kim")
    page.goto(f"{live_server}/admin/posts/{post}/edit")
    open_visual(page)
    page.get_by_role("button", name="Align centre").click()
    expect(page.locator("#body")).to_have_value(
        re.compile(r'^<ul>\s*<li style="text-align: center;?">항목</li>\s*</ul>')
    )


@pytest.mark.usefixtures("editor_user")
def test_autosave_and_restore_in_visual_mode(
    app: Flask, live_server: str, csp_context: BrowserContext, make_post: MakePost
) -> None:
    """What was typed in visual mode is autosaved (the textarea it writes to is what the
    autosave sends), offered again after leaving, and restored into visual mode."""
    post = post_id(app, make_post(source="<p>저장된 글</p>", source_format="html"))
    page = csp_context.new_page()
    sign_in(page, live_server, "kim")
    page.goto(f"{live_server}/admin/posts/{post}/edit")
    open_visual(page)
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Bold", exact=True).click()
    page.keyboard.insert_text("자동 저장된 굵은 글")
    with page.expect_response(lambda response: "/autosave" in response.url, timeout=15_000):
        pass
    page.goto(live_server + "/admin/")
    page.goto(f"{live_server}/admin/posts/{post}/edit")
    expect(page.locator("#working-copy")).to_be_visible()
    page.get_by_role("link", name="Restore them").click()
    # The writer's mode was visual: the restored text opens there, formatting and all.
    expect(page.locator(".visual-surface .ProseMirror b")).to_have_text("자동 저장된 굵은 글")
    expect(page.locator("#body")).to_have_value(re.compile("<b>자동 저장된 굵은 글</b>"))
    expect(page.locator("#preview .post-body b")).to_have_text("자동 저장된 굵은 글")


@pytest.mark.usefixtures("editor_user")
def test_the_editor_never_parses_what_the_sanitiser_drops(
    app: Flask, live_server: str, csp_context: BrowserContext, make_post: MakePost
) -> None:
    """An image that surely fails to load, with Tistory's onerror: the editor opens the
    server's sanitised body, so no handler reaches any document of the page (Chromium logs
    a CSP error even for one parsed in a detached document)."""
    source = (
        '<p>앞 글<img src="/media/no-such-image.png" alt="없는 그림" '
        'onerror="window.handlerRan = 1"> 뒤 글</p>'
        '<script>window.handlerRan = 2</script><p onclick="window.handlerRan = 3">문단</p>'
    )
    slug = make_post(source=source, source_format="html")
    page = csp_context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_server, "kim")
    with page.expect_response(lambda response: "/media/no-such-image.png" in response.url):
        page.goto(f"{live_server}/admin/posts/{post_id(app, slug)}/edit")
        open_visual(page)
    image = page.locator(".visual-surface img")
    expect(image).to_have_attribute("alt", "없는 그림")
    assert image.get_attribute("onerror") is None
    expect(page.locator(".visual-surface p").nth(1)).to_have_text("문단")
    page.keyboard.type("가")
    expect(page.locator("#body")).not_to_have_value(re.compile("onerror|onclick|script"))
    assert page.evaluate("window.handlerRan") is None
    no_csp_violations(page, errors)


@pytest.mark.usefixtures("editor_user")
def test_korean_text_made_bold_and_red_from_the_toolbar(
    live_server: str, csp_context: BrowserContext
) -> None:
    page = csp_context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_server, "kim")
    page.goto(live_server + "/admin/posts/new")
    page.get_by_label("Title").fill("빨간 글씨")
    page.get_by_label("Format", exact=True).select_option("html")
    page.get_by_label("Status").select_option("published")
    open_visual(page)
    page.keyboard.type("대통령실에 따르면 동맹은 굳건하다.")
    page.keyboard.press("Control+a")
    bold = page.get_by_role("button", name="Bold", exact=True)
    bold.click()
    page.get_by_role("button", name="Text colour: red").click()
    expect(bold).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="Text colour: red")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("#body")).to_have_value(
        re.compile(r'<span style="color: #ee2323;?"><b>대통령실에 따르면 동맹은 굳건하다\.</b>')
    )
    expect(page.locator("#preview .post-body b")).to_have_text("대통령실에 따르면 동맹은 굳건하다.")
    screenshot(page, "visual-editor-laptop")
    page.locator("#save-button").click()
    expect(page.locator(".flash")).to_have_text("Published.")
    page.get_by_role("link", name="View post").click()
    red = page.locator(".post-body b", has_text="대통령실에 따르면")
    expect(red).to_have_css("color", "rgb(238, 35, 35)")
    expect(red).to_have_css("font-weight", "700")
    no_csp_violations(page, errors)


@pytest.mark.usefixtures("editor_user")
def test_html_the_editor_cannot_hold_is_never_changed_without_asking(
    app: Flask, live_server: str, csp_context: BrowserContext, make_post: MakePost
) -> None:
    source = "<p>요약</p>\n<p><ruby>漢<rp>(</rp><rt>한</rt><rp>)</rp></ruby>字</p>"
    slug = make_post(source=source, source_format="html")
    page = csp_context.new_page()
    sign_in(page, live_server, "kim")
    page.goto(f"{live_server}/admin/posts/{post_id(app, slug)}/edit")
    # The question comes once the server has sent the body back (editable-html), sometimes
    # before the click has returned: it is answered as it comes (an unanswered confirm would
    # hold the click), then waited for.
    questions: list[str] = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Visual", exact=True).click()
    for _ in range(100):
        if questions:
            break
        page.wait_for_timeout(100)
    assert questions and "cannot keep everything" in questions[0]
    expect(page.locator("#body")).to_be_visible()
    expect(page.locator(".visual-surface")).to_have_count(0)
    expect(page.get_by_role("button", name="HTML", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("#body")).to_have_value(source)


@pytest.mark.usefixtures("editor_user")
def test_images_uploaded_in_visual_mode_are_inserted_and_kept(
    live_server: str, csp_context: BrowserContext
) -> None:
    page = csp_context.new_page()
    sign_in(page, live_server, "kim")
    page.goto(live_server + "/admin/posts/new")
    page.get_by_label("Format", exact=True).select_option("html")
    open_visual(page)
    page.keyboard.type("사진 앞의 글 ")
    page.locator("#upload-form input[type=file]").set_input_files(
        {"name": "picked.png", "mimeType": "image/png", "buffer": png_bytes((20, 120, 200))}
    )
    page.locator("#upload-alt").fill("파란 사각형")
    page.locator("#upload-form").get_by_role("button", name="Upload").click()
    page.get_by_role("button", name="Insert into the body").click()
    expect(page.locator(".visual-surface img[src^='/media/']")).to_have_attribute(
        "alt", "파란 사각형"
    )
    # Typing on in the visual editor keeps the image in what is saved. (The editor takes
    # the focus back at the next animation frame, as Tiptap's focus command does.)
    expect(page.locator(".visual-surface .ProseMirror")).to_be_focused()
    page.keyboard.type("사진 뒤의 글")
    expect(page.locator("#body")).to_have_value(
        re.compile(
            r'^<p>사진 앞의 글 <img src="/media/[0-9a-f]{64}/picked\.png" alt="파란 사각형">'
            r"사진 뒤의 글</p>$"
        )
    )
    expect(page.locator("#preview img")).to_have_count(1)

    # A file dropped on the visual editor is uploaded (alt text asked for) and inserted.
    page.once("dialog", lambda dialog: dialog.accept("빨간 사각형"))
    page.evaluate(
        """(data) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
            const surface = document.querySelector(".visual-surface .ProseMirror p");
            const options = {dataTransfer: transfer, bubbles: true, cancelable: true};
            surface.dispatchEvent(new DragEvent("dragover", options));
            surface.dispatchEvent(new DragEvent("drop", options));
        }""",
        base64.b64encode(png_bytes((200, 40, 40))).decode(),
    )
    expect(page.locator(".visual-surface img[src^='/media/']")).to_have_count(2)
    expect(page.locator("#body")).to_have_value(re.compile(r'alt="빨간 사각형"'))
    expect(page.locator("#preview img")).to_have_count(2)


def test_without_javascript_the_form_is_the_plain_textarea(
    client: FlaskClient, login: Login, make_post: MakePost, app: Flask
) -> None:
    login("editor")
    slug = make_post(source="<p>본문</p>", source_format="html")
    html = client.get(f"/admin/posts/{post_id(app, slug)}/edit").text
    assert re.search(r'<textarea[^>]*id="body"[^>]*>\s*&lt;p&gt;본문&lt;/p&gt;</textarea>', html)
    tools = html[html.index('id="visual-tools"') : html.index("<textarea")]
    # Hidden until the script shows it, and nothing in it is sent with the form.
    assert re.search(r'id="visual-tools" hidden', html)
    assert " name=" not in tools  # its colour pickers have no name
    assert re.search(r'<script src="/static/vendor/visual-editor-[^"]+\.js" async>', html)
    # Only the editor page loads it.
    assert "visual-editor" not in client.get("/admin/").text
