"""The visual editor's toolbar in Chromium: a reporter writes the sample post from scratch
without typing a tag, and every control ends up in the served article as readers see it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Dialog, Page, expect

from tests.browser.conftest import screenshot
from tests.browser.test_editor import png_bytes, sign_in, watch_errors
from tests.browser.test_visual_editor import (
    no_csp_violations,
    open_visual,
    sample_body,
)
from tests.conftest import MakePost

# What a reader sees of an article, character by character: each visible character with
# its colour, background, weight, style and decoration, and its block's tag and alignment.
# Text straight in the article (the sample's last line) counts as a paragraph.
READER_VIEW = """(root) => {
  const seen = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const element = node.parentElement;
    if (element.closest("nav.toc, .toc")) continue;
    const style = getComputedStyle(element);
    const block = element.closest("p, h1, h2, h3, h4, li, td, th, blockquote, pre, .post-body");
    const tag = block === root ? "P" : block.tagName;
    let background = "rgba(0, 0, 0, 0)";
    for (let at = element; at && at !== block; at = at.parentElement) {
      const own = getComputedStyle(at).backgroundColor;
      if (own !== "rgba(0, 0, 0, 0)") { background = own; break; }
    }
    const look = [style.color, background, style.fontWeight, style.fontStyle,
      style.textDecorationLine, tag, getComputedStyle(block).textAlign].join(" | ");
    for (const character of node.data) {
      if (!/\\s/.test(character)) seen.push(character + " " + look);
    }
  }
  return seen;
}"""

# The article's blocks in order, blank ones (the sample's &nbsp; paragraphs) named so.
BLOCKS_VIEW = """(root) => {
  const blocks = [];
  let inline = false;  // a run of text and inline elements straight in the article: a line
  for (const node of root.childNodes) {
    const inlineNode = node.nodeType === 1 && getComputedStyle(node).display === "inline";
    if (node.nodeType === 3 || inlineNode) {
      if (!inline && node.textContent.trim()) { blocks.push("P"); inline = true; }
      continue;
    }
    inline = false;
    if (node.nodeType !== 1 || node.matches("nav.toc, .toc")) continue;
    const blank = !node.textContent.trim() && !node.querySelector("img");
    blocks.push(node.tagName + (blank ? " (blank)" : ""));
  }
  return blocks;
}"""


def reader_view(page: Page, url: str) -> tuple[list[str], list[str]]:
    page.goto(url)
    body = page.locator(".post-body")
    return body.evaluate(READER_VIEW), body.evaluate(BLOCKS_VIEW)


@dataclass
class Run:
    text: str
    bold: bool = False
    color: str | None = None
    background: str | None = None
    href: str | None = None


@dataclass
class Block:
    kind: str  # "h2", "p", "blank", "image", "table", "ul"
    runs: list[Run] = field(default_factory=list)
    items: list[list[Run]] = field(default_factory=list)  # list items, table cells
    alt: str = ""


class _SampleReader(HTMLParser):
    """The sample's body as what a writer does: blocks, and runs of text with formatting."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.marks: list[tuple[str, dict[str, str | None]]] = []
        self.depth = 0

    def _block(self) -> Block:
        if not self.blocks or self.depth == 0 and self.blocks[-1].kind not in {"p"}:
            self.blocks.append(Block("p"))
        return self.blocks[-1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if self.depth == 0 and tag in {"p", "h2", "table", "ul"}:
            self.blocks.append(Block(tag))
        if tag in {"p", "h2", "table", "ul"}:
            self.depth += 1
        elif tag in {"td", "li"}:
            self.blocks[-1].items.append([])
        elif tag == "img":
            self.blocks[-1].kind = "image"
            self.blocks[-1].alt = attributes.get("alt") or ""
        elif tag in {"b", "span", "a"}:
            self.marks.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        if tag in {"p", "h2", "table", "ul"}:
            self.depth -= 1
        elif tag in {"b", "span", "a"} and self.marks:
            self.marks.pop()

    def handle_data(self, data: str) -> None:
        if not data.strip() and (self.depth == 0 or "\xa0" not in data):
            return
        run = Run(re.sub(r"[ \t\n]+", " ", data))
        for tag, attributes in self.marks:
            style = attributes.get("style") or ""
            run.bold = run.bold or tag == "b"
            if match := re.search(r"(?<!-)color:\s*(#[0-9a-f]+)", style):
                run.color = match[1]
            if match := re.search(r"background-color:\s*(#[0-9a-f]+)", style):
                run.background = match[1]
            if tag == "a":
                run.href = attributes.get("href")
        block = self._block() if self.depth == 0 else self.blocks[-1]
        if block.kind in {"table", "ul"}:
            block.items[-1].append(run)
        else:
            block.runs.append(run)
        if block.kind == "p" and all(r.text.strip("\xa0 ") == "" for r in block.runs):
            block.kind = "blank"
        elif block.kind == "blank":
            block.kind = "p"


def sample_blocks() -> list[Block]:
    reader = _SampleReader()
    reader.feed(sample_body())
    reader.close()
    return reader.blocks


SWATCHES = {"#ee2323": "Text colour: red", "#1a5490": "Text colour: blue"}
HIGHLIGHTS = {"#21538527": "Highlight: translucent blue"}


class Writer:
    """A reporter at the visual editor: types text, and formats only from the toolbar."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.answers: list[str] = []  # for the next prompts, in order
        self.questions: list[str] = []  # every prompt and alert the page showed
        page.on("dialog", self._answer)

    def _answer(self, dialog: Dialog) -> None:
        self.questions.append(dialog.message)
        dialog.accept(self.answers.pop(0) if self.answers and dialog.type == "prompt" else "")

    def tool(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).click()

    def type(self, text: str) -> None:
        # What a Korean IME hands the page when a syllable is committed.
        self.page.keyboard.insert_text(text)

    def run(self, run: Run) -> None:
        if run.href:
            self.answers.append(run.href)
            self.tool("Link")
            return
        on = [name for name in ("Bold",) if run.bold]
        if run.color:
            on.append(SWATCHES[run.color])
        if run.background:
            on.append(HIGHLIGHTS[run.background])
        for name in on:
            self.tool(name)
        self.type(run.text)
        if run.bold:
            self.tool("Bold")
        if run.color:
            self.tool("Remove text colour")
        if run.background:
            self.tool("Remove highlight")

    def block(self, block: Block) -> None:
        page = self.page
        if block.kind == "blank":
            page.keyboard.press("Enter")
        elif block.kind == "h2":
            self.tool("Heading 2")
            self.type(block.runs[0].text.strip())
            page.keyboard.press("Enter")
        elif block.kind == "p":
            for run in block.runs:
                self.run(run)
            page.keyboard.press("Enter")
        elif block.kind == "image":
            self.answers.append(block.alt)
            with page.expect_file_chooser() as chooser:
                self.tool("Image")
            chooser.value.set_files(
                {"name": "breaking.png", "mimeType": "image/png", "buffer": png_bytes((200, 30, 9))}
            )
            expect(page.locator(".visual-surface img[src^='/media/']")).to_have_count(1)
            expect(page.locator(".visual-surface .ProseMirror")).to_be_focused()
            page.keyboard.press("End")
            page.keyboard.press("Enter")
        elif block.kind == "table":
            self.table(block)
        elif block.kind == "ul":
            self.tool("Bulleted list")
            for index, item in enumerate(block.items):
                if index:
                    page.keyboard.press("Enter")
                for run in item:
                    self.run(Run(run.text.strip(), run.bold, run.color, run.background))
            page.keyboard.press("Enter")
            page.keyboard.press("Enter")  # an empty item leaves the list

    def table(self, block: Block) -> None:
        """One column, a row per cell, each cell centred and bold, as the sample's."""
        page = self.page
        self.tool("Insert table")  # 3 × 3 with a header row
        self.tool("Header row")
        self.tool("Delete column")
        self.tool("Delete column")
        for _ in range(len(block.items) - 3):
            self.tool("Add row below")
        page.locator(".visual-surface td").first.click()
        for index, cell in enumerate(block.items):
            if index:
                page.keyboard.press("Tab")
            self.tool("Align centre")
            for run in cell:
                self.run(run)
        # Out of the table: the caret goes to the line below it.
        page.keyboard.press("ArrowDown")


@pytest.mark.usefixtures("editor_user")
def test_a_reporter_writes_the_sample_from_scratch_and_readers_see_the_same(
    app: Flask, live_server: str, csp_context: BrowserContext, make_post: MakePost
) -> None:
    original = make_post(title="원본", source=sample_body(), source_format="html")
    page = csp_context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_server, "kim")
    page.goto(live_server + "/admin/posts/new")
    page.get_by_label("Title").fill("한·미 동맹 지지 대통령실 초당적 의지 공개!")
    page.get_by_label("Format", exact=True).select_option("html")
    page.get_by_label("Status").select_option("published")
    open_visual(page)
    writer = Writer(page)
    blocks = sample_blocks()
    assert [b.kind for b in blocks[:4]] == ["image", "h2", "blank", "p"]
    assert {"table", "ul"} <= {b.kind for b in blocks}
    for block in blocks:
        writer.block(block)
    # The last Enter left an empty paragraph at the end: nothing a reader would see.
    page.keyboard.press("Backspace")
    written = page.locator("#body").input_value()
    assert "<" in written and "onerror" not in written
    screenshot(page, "visual-editor-sample-written")
    page.locator("#save-button").click()
    expect(page.locator(".flash")).to_have_text("Published.")
    page.get_by_role("link", name="View post").click()
    rewritten_url = page.url

    sample_look, sample_blocks_seen = reader_view(page, f"{live_server}/posts/{original}")
    written_look, written_blocks_seen = reader_view(page, rewritten_url)
    assert written_blocks_seen == sample_blocks_seen
    assert written_look == sample_look
    # The colours the archive uses, as readers get them.
    looks = "\n".join(written_look)
    assert "rgb(238, 35, 35) | rgba(0, 0, 0, 0) | 700" in looks
    assert "rgb(26, 84, 144) | rgba(0, 0, 0, 0) | 700" in looks
    assert "rgba(33, 83, 133, 0.153) | 700" in looks
    assert "TD | center" in looks
    image = page.locator(".post-body img")
    expect(image).to_have_attribute("alt", "bookingtag 속보")
    no_csp_violations(page, errors)


def test_each_control_reaches_the_served_article(
    app: Flask, live_server: str, csp_context: BrowserContext, editor_user: None
) -> None:
    page = csp_context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_server, "kim")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto(live_server + "/admin/posts/new")
    assert response is not None
    script_policy = re.search(r"script-src [^;]*", response.headers["content-security-policy"])
    assert script_policy and "unsafe-" not in script_policy[0]
    page.get_by_label("Title").fill("도구 모음")
    page.get_by_label("Format", exact=True).select_option("html")
    page.get_by_label("Status").select_option("published")
    open_visual(page)
    writer = Writer(page)
    keyboard = page.keyboard

    def line(text: str, *tools: str) -> None:
        for name in tools:
            writer.tool(name)
        writer.type(text)
        keyboard.press("Enter")

    def select_back(count: int) -> None:
        for _ in range(count):
            keyboard.press("Shift+ArrowLeft")

    writer.tool("Heading 3")
    writer.type("셋째 제목")
    keyboard.press("Enter")
    writer.tool("Heading 4")
    writer.type("넷째 제목")
    keyboard.press("Enter")
    for name, text in [("Italic", "기울임"), ("Underline", "밑줄"), ("Strikethrough", "취소선")]:
        writer.type(text)
        select_back(len(text))
        writer.tool(name)
        keyboard.press("End")
        writer.tool(name)  # marks go on past the end of a line until turned off
        keyboard.press("Enter")
    # Colours picked freely: a text colour and a highlight not in the palette.
    writer.type("자유 색")
    select_back(4)
    page.get_by_label("Text colour", exact=True).fill("#2e7d32")
    page.get_by_label("Highlight colour", exact=True).fill("#ffe0b2")
    expect(page.locator(".visual-surface span[style*='color']")).to_have_count(1)
    page.locator(".visual-surface .ProseMirror").focus()
    keyboard.press("End")
    writer.tool("Remove text colour")
    keyboard.press("Enter")
    writer.type("노란 형광펜")
    select_back(6)
    writer.tool("Highlight: yellow")
    expect(page.get_by_role("button", name="Highlight: yellow")).to_have_attribute(
        "aria-pressed", "true"
    )
    keyboard.press("End")
    writer.tool("Remove highlight")
    keyboard.press("Enter")
    line("가운데 문단", "Align centre")
    expect(page.get_by_role("button", name="Align centre")).to_have_attribute(
        "aria-pressed", "true"
    )
    line("오른쪽 문단", "Align right")
    line("양쪽 맞춤 문단", "Justify")
    writer.tool("Align left")
    line("인용문", "Quote")
    keyboard.press("Enter")  # an empty paragraph leaves the quote
    writer.tool("Numbered list")
    writer.type("첫째")
    keyboard.press("Enter")
    writer.type("둘째")
    keyboard.press("Enter")
    keyboard.press("Enter")
    writer.tool("Code block")
    writer.type("print('안녕')")
    keyboard.press("Enter")
    keyboard.press("Enter")
    keyboard.press("Enter")  # three Enters leave a code block
    writer.tool("Horizontal rule")
    # A link added, edited, then a second one removed; a refused address is named.
    writer.type("링크 글")
    select_back(4)
    writer.answers.append("https://newsdao.kr/a")
    writer.tool("Link")
    expect(page.get_by_role("button", name="Link", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    writer.answers.append("https://newsdao.kr/b")
    writer.tool("Link")
    writer.answers.append("javascript:alert(1)")
    writer.tool("Link")
    expect(page.locator(".visual-surface a")).to_have_attribute("href", "https://newsdao.kr/b")
    assert "http or https" in writer.questions[-1]
    keyboard.press("End")
    writer.type(" 지울 링크")
    select_back(5)
    writer.answers.append("/posts/x")
    writer.tool("Link")
    writer.tool("Remove link")
    expect(page.locator(".visual-surface a")).to_have_count(1)
    keyboard.press("End")
    keyboard.press("Enter")
    # A table: a column and a row added, one removed again, the header row kept, a cell centred.
    writer.tool("Insert table")
    table_tools = page.get_by_role("group", name="Table")
    expect(table_tools).to_be_visible()
    writer.type("머리")
    keyboard.press("Tab")
    keyboard.press("Tab")
    keyboard.press("Tab")
    writer.tool("Align centre")
    writer.type("가운데 칸")
    writer.tool("Add column right")
    writer.tool("Add row below")  # the caret stays; the new row is the one below it
    keyboard.press("ArrowDown")
    writer.tool("Delete row")
    expect(page.locator(".visual-surface tr")).to_have_count(3)
    expect(page.locator(".visual-surface tr").first.locator("th")).to_have_count(4)
    # Undo and redo: a word typed, undone, redone.
    page.locator(".visual-surface td").last.click()
    writer.type("되돌림")
    writer.tool("Undo")
    expect(page.locator(".visual-surface td").last).not_to_contain_text("되돌림")
    writer.tool("Redo")
    expect(page.locator(".visual-surface td").last).to_contain_text("되돌림")
    page.locator(".visual-surface h3").click()
    expect(table_tools).to_be_hidden()
    screenshot(page, "visual-editor-every-control")

    page.locator("#save-button").click()
    expect(page.locator(".flash")).to_have_text("Published.")
    page.get_by_role("link", name="View post").click()
    body = page.locator(".post-body")
    expect(body.locator("h3")).to_have_text("셋째 제목")
    expect(body.locator("h4")).to_have_text("넷째 제목")
    expect(body.locator("em, i").filter(has_text="기울임")).to_have_css("font-style", "italic")
    expect(body.locator("u").filter(has_text="밑줄")).to_have_css(
        "text-decoration-line", "underline"
    )
    expect(body.locator("s").filter(has_text="취소선")).to_have_css(
        "text-decoration-line", "line-through"
    )
    free = body.locator("span", has_text="자유 색").last
    expect(free).to_have_css("color", "rgb(46, 125, 50)")
    expect(body.locator("span[style*='background']", has_text="자유 색").first).to_have_css(
        "background-color", "rgb(255, 224, 178)"
    )
    expect(body.locator("span", has_text="노란 형광펜")).to_have_css(
        "background-color", "rgb(255, 245, 157)"
    )
    expect(body.locator("p", has_text="가운데 문단")).to_have_css("text-align", "center")
    expect(body.locator("p", has_text="오른쪽 문단")).to_have_css("text-align", "right")
    expect(body.locator("p", has_text="양쪽 맞춤 문단")).to_have_css("text-align", "justify")
    expect(body.locator("blockquote")).to_have_text("인용문")
    expect(body.locator("ol li")).to_have_text(["첫째", "둘째"])
    expect(body.locator("pre")).to_contain_text("print('안녕')")
    expect(body.locator("hr")).to_have_count(1)
    expect(body.locator("a", has_text="링크 글")).to_have_attribute("href", "https://newsdao.kr/b")
    expect(body.locator("a", has_text="지울 링크")).to_have_count(0)
    expect(body.locator("th").first).to_have_text("머리")
    expect(body.locator("td", has_text="가운데 칸")).to_have_css("text-align", "center")
    expect(body.locator("tr")).to_have_count(3)
    expect(body.locator("td").last).to_have_text("되돌림")
    no_csp_violations(page, errors)
    # The editor asked no other host for anything (fonts, icons, telemetry).
    assert requested and all(url.startswith(live_server + "/") for url in requested), {
        url for url in requested if not url.startswith(live_server + "/")
    }
