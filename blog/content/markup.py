"""Turning a post's source (Markdown or HTML) into the sanitised HTML that pages serve."""

from __future__ import annotations

import html
import math
import re
import threading
from html.parser import HTMLParser
from typing import Any

import markdown
from markdown.extensions.codehilite import CodeHiliteExtension
from markdown.extensions.toc import TocExtension
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from ..models import SourceFormat
from .headings import TOC_MIN_HEADINGS, heading_slug, with_heading_anchors
from .markdown_limits import BoundedLinksExtension
from .markdown_worker import RenderFailed, budget_for, render_in_worker
from .sanitize import sanitize_html

# The class of the <div> around highlighted code, which static/css/highlight.css scopes to.
HIGHLIGHT_CLASS = "highlight"
# What kramdown users write on Jekyll: tables, fenced code, footnotes, {: .class} attribute
# lists, markdown="1" inside HTML, definition lists, abbreviations and a table of contents.
# The TOC's anchors keep Korean text (heading_slug) so links like #한미-동맹 work.
# Code is highlighted by Pygments on save, with its short token classes (`k`, `s2`) rather
# than inline styles: the sanitiser keeps classes and static/css/highlight.css colours them.
MARKDOWN_EXTENSIONS = [
    "abbr",
    "attr_list",
    "def_list",
    "fenced_code",
    CodeHiliteExtension(css_class=HIGHLIGHT_CLASS, guess_lang=False),
    "footnotes",
    "md_in_html",
    "tables",
    "sane_lists",
    BoundedLinksExtension(),
    TocExtension(slugify=heading_slug, permalink=False),  # last: render_markdown may drop it
]


def _with_table_of_contents(converter: markdown.Markdown, rendered: str) -> str:
    """`rendered` led by its table of contents when it is long (TOC_MIN_HEADINGS headings or
    more) and the author did not place one (`[TOC]`, kramdown's `{:toc}`) already."""
    tokens: list[dict[str, Any]] = list(getattr(converter, "toc_tokens", []))
    headings = 0
    while tokens and headings < TOC_MIN_HEADINGS:
        token = tokens.pop()
        headings += 1
        tokens.extend(token["children"])
    toc = getattr(converter, "toc", "")
    if headings < TOC_MIN_HEADINGS or not toc or '<div class="toc">' in rendered:
        return rendered
    return f"{toc}\n{rendered}"


# Markdown turned into a post's HTML source (the visual editor's): what publishing adds on
# every render (highlighted code, the table of contents) stays out of the source.
SOURCE_EXTENSIONS = [
    extension
    for extension in MARKDOWN_EXTENSIONS
    if not isinstance(extension, CodeHiliteExtension | TocExtension)
]


# The toc extension's marker on a line of its own (its default, `[TOC]`).
_TOC_MARKER = re.compile(r"^[ \t]*\[TOC\][ \t]*$", re.MULTILINE)


def render_markdown(source: str, as_source: bool = False) -> str:
    """Markdown to (unsanitised) HTML; pathological nesting degrades instead of failing.
    `as_source`: without highlighting and table of contents (SOURCE_EXTENSIONS)."""
    # A Markdown instance keeps state between documents (footnotes, TOC), so use a fresh one.
    try:
        if as_source:
            # An HTML post gets its table of contents from publishing, wherever [TOC] was.
            source = _TOC_MARKER.sub("", source)
            return markdown.Markdown(extensions=SOURCE_EXTENSIONS, output_format="html").convert(
                source
            )
        converter = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS, output_format="html")
        return _with_table_of_contents(converter, converter.convert(source))
    except RecursionError:
        if as_source:
            return f"<pre>{html.escape(source)}</pre>"
    # The TOC walks the element tree recursively: thousands of nested emphasis markers
    # exhaust Python's stack. Without it the rest still renders.
    try:
        return markdown.Markdown(extensions=MARKDOWN_EXTENSIONS[:-1], output_format="html").convert(
            source
        )
    except RecursionError:
        return f"<pre>{html.escape(source)}</pre>"


def render_body(source: str, source_format: str) -> str:
    """The stored HTML of a post: rendered if Markdown, then always sanitised."""
    if source_format == SourceFormat.MARKDOWN:
        rendered = render_markdown(source)
    elif source_format == SourceFormat.HTML:
        rendered = source
    else:
        raise ValueError(f"unknown source format {source_format!r}")
    # Code blocks written as HTML (in either format; Jekyll's {% highlight %} after import).
    # Headings written as HTML get anchors and a table of contents like Markdown's: in HTML
    # posts, and in Markdown posts of pasted Tistory HTML (the toc extension skips raw HTML).
    return with_heading_anchors(sanitize_html(highlight_code_blocks(rendered)))


def editable_html(source: str, source_format: str) -> str:
    """The body as the visual editor opens it: what readers get, before what publishing adds
    on every render (heading anchors, a table of contents, highlighted code), so that the
    editor never parses what the sanitiser drops and saving it back keeps the source plain."""
    if source_format == SourceFormat.MARKDOWN:
        return sanitize_html(render_markdown(source, as_source=True))
    if source_format == SourceFormat.HTML:
        return sanitize_html(source)
    raise ValueError(f"unknown source format {source_format!r}")


# How Markdown writes a fenced block, and Jekyll's {% highlight x %} after import.
_CODE_OPENING = '<pre><code class="language-'
_CODE_CLOSING = "</code></pre>"
_FORMATTER = HtmlFormatter(cssclass=HIGHLIGHT_CLASS, wrapcode=True)


def has_code_blocks(source: str) -> bool:
    """Whether highlight_code_blocks has anything to do in `source`."""
    return _CODE_OPENING in source


def highlight_code_blocks(html_text: str) -> str:
    """Highlight each `<pre><code class="language-x">` block of plain (escaped) text in an
    HTML body; blocks with markup inside, or of a language Pygments does not know, stay.

    Found with str.find, each character looked at once: Pygments itself is not known to
    be linear, so bodies with code blocks are rendered in the worker (render_body_within_budget).
    """
    parts: list[str] = []
    position = 0
    while (start := html_text.find(_CODE_OPENING, position)) != -1:
        name_start = start + len(_CODE_OPENING)
        name_end = html_text.find('">', name_start, name_start + 40)
        end = html_text.find(_CODE_CLOSING, name_start)
        if end == -1:
            break
        parts.append(html_text[position:start])
        position = end + len(_CODE_CLOSING)
        block = html_text[start:position]
        code = html_text[name_end + 2 : end] if name_end != -1 else ""
        if name_end == -1 or name_end > end or "<" in code:
            parts.append(block)
            continue
        try:
            lexer = get_lexer_by_name(html_text[name_start:name_end])
        except ClassNotFound:
            parts.append(block)
            continue
        parts.append(highlight(html.unescape(code), lexer, _FORMATTER))
    parts.append(html_text[position:])
    return "".join(parts)


# Live previews (one per keystroke pause, per writer) share a few slots, so that a flood
# of slow previews from one account cannot take every server thread; saves never wait
# for a slot.
PREVIEW_SLOTS = threading.BoundedSemaphore(2)
PREVIEW_SECONDS = 5.0


class RenderBusy(RenderFailed):
    """Every preview slot is taken; the preview follows at the next pause in typing."""


def render_preview(source: str, source_format: str) -> str:
    """The live preview: render_body_within_budget with a shorter budget and a free slot."""
    if source_format != SourceFormat.MARKDOWN and not has_code_blocks(source):
        return render_body(source, source_format)
    if not PREVIEW_SLOTS.acquire(blocking=False):
        raise RenderBusy("every preview slot is busy")
    try:
        return render_in_worker(source, source_format, min(PREVIEW_SECONDS, budget_for(source)))
    finally:
        PREVIEW_SLOTS.release()


def editable_html_within_budget(source: str, source_format: str) -> str:
    """editable_html, with Markdown in a worker within the preview's budget (render_preview)."""
    if source_format != SourceFormat.MARKDOWN:
        return editable_html(source, source_format)
    if not PREVIEW_SLOTS.acquire(blocking=False):
        raise RenderBusy("every preview slot is busy")
    try:
        seconds = min(PREVIEW_SECONDS, budget_for(source))
        return render_in_worker(source, source_format, seconds, editable=True)
    finally:
        PREVIEW_SLOTS.release()


def render_body_within_budget(source: str, source_format: str) -> str:
    """render_body for author input: Markdown in a worker that is stopped past its time
    budget (RenderTooSlow), since Python-Markdown has quadratic corners, and so does HTML
    with code blocks for Pygments; other HTML goes through nh3 alone, which is linear, so
    it stays in this process."""
    if source_format == SourceFormat.MARKDOWN or has_code_blocks(source):
        return render_in_worker(source, source_format)
    return render_body(source, source_format)


class _TextExtractor(HTMLParser):
    _BLOCKS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "br", "blockquote",
               "pre", "table", "section", "figure", "dd", "dt"}  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[list[str]] = [[]]
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        elif tag in self._BLOCKS:
            self.blocks.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self.blocks.append([])

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.blocks[-1].append(data)


_SPACES = re.compile(r"\s+")


def text_blocks(html_text: str) -> list[str]:
    """The non-empty text of each block of `html_text`, whitespace collapsed."""
    parser = _TextExtractor()
    parser.feed(html_text)
    parser.close()
    blocks = (_SPACES.sub(" ", "".join(parts)).strip() for parts in parser.blocks)
    return [block for block in blocks if block]


def html_to_text(html_text: str) -> str:
    """Plain text of an HTML fragment (for excerpts, search and feeds)."""
    return " ".join(text_blocks(html_text))


# Reading speeds: Korean (and Chinese and Japanese) text is read by the character, about
# 500 a minute; other text by the word, about 230 a minute. A post's time is the sum,
# rounded up, so "1 minute" is the least a post with any text takes.
CHARACTERS_PER_MINUTE = 500
WORDS_PER_MINUTE = 230
# Hangul syllables and jamo, kana, CJK ideographs.
_READ_BY_CHARACTER = re.compile(
    r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]"
)
_WORD = re.compile(r"\w+")


def reading_minutes(body_html: str) -> int:
    """How many minutes the text of a sanitised body (every tag closed: html.parser is
    quadratic on unclosed ones) takes to read; 0 for a body without text."""
    text = html_to_text(body_html)
    characters = len(_READ_BY_CHARACTER.findall(text))
    words = len(_WORD.findall(_READ_BY_CHARACTER.sub(" ", text)))
    return math.ceil(characters / CHARACTERS_PER_MINUTE + words / WORDS_PER_MINUTE)


def truncate_text(text: str, limit: int = 280) -> str:
    """Cut at a word boundary near `limit`, marking the cut with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"


class _FirstParagraph(HTMLParser):
    """Reads a body until its first <p> with text outside headings, figures, tables,
    quotes and code (a title, a caption or a quote is not what the post says)."""

    _SKIPPED = {"h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "table",
                "blockquote", "pre", "script", "style", "nav"}  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._inside_skipped = 0
        self._paragraph: list[str] | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIPPED:
            self._inside_skipped += 1
        elif tag == "p" and not self._inside_skipped:
            self._paragraph = []
        elif tag == "br" and self._paragraph is not None:
            self._paragraph.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIPPED:
            self._inside_skipped = max(0, self._inside_skipped - 1)
        elif tag == "p" and self._paragraph is not None:
            # Tistory's spacer paragraphs hold only &nbsp; (U+00A0, which \s matches).
            text = _SPACES.sub(" ", "".join(self._paragraph)).strip(_BLANK)
            self._paragraph = None
            if text and not self.text:
                self.text = text

    def handle_data(self, data: str) -> None:
        if self._paragraph is not None and not self._inside_skipped:
            self._paragraph.append(data)


# The excerpt comes from the opening of a body: past this many characters, stop looking.
EXCERPT_SCAN_LIMIT = 200_000
_EXCERPT_CHUNK = 65_536
_BLANK = " \u00a0\u200b\ufeff\t\n\r"


def first_paragraph_text(body_html: str, limit: int = 280) -> str:
    """The excerpt when the author wrote none: the first paragraph of text, skipping
    headings, images, figures, tables, quotes, code and empty (&nbsp;) paragraphs; else,
    for a body without one, its first text of any kind.

    `body_html` is a sanitised body (every tag closed), read in chunks until the
    paragraph is found and never past EXCERPT_SCAN_LIMIT characters.
    """
    opening = body_html[:EXCERPT_SCAN_LIMIT]
    parser = _FirstParagraph()
    for start in range(0, len(opening), _EXCERPT_CHUNK):
        parser.feed(opening[start : start + _EXCERPT_CHUNK])
        if parser.text:
            return truncate_text(parser.text, limit)
    blocks = text_blocks(opening)
    return truncate_text(blocks[0], limit) if blocks else ""


# CPython 3.11's html.parser is quadratic on unclosed tags (gh-135462): a plain field
# is cut to this before tags are stripped (an excerpt is at most 5,000 characters).
MAX_PLAIN_TEXT_INPUT = 10_000


def plain_text(value: str) -> str:
    """Text given by an author for a plain field (title, excerpt): entities decoded, tags gone."""
    text = str(value)[:MAX_PLAIN_TEXT_INPUT]
    return (
        html_to_text(html.unescape(text))
        if "<" in text
        else (_SPACES.sub(" ", html.unescape(text)).strip())
    )
