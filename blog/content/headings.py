"""Anchors and a table of contents for headings written as HTML, like those Python-Markdown's
toc extension gives Markdown headings. Tistory's editor writes its headings as <h2> to <h4>;
a post pasted from it, as an HTML post or as raw HTML in a Markdown file (how the Jekyll
archive holds them: the toc extension does not read raw HTML), has no other way to get them."""

from __future__ import annotations

import html
import itertools
from dataclasses import dataclass, field
from html.parser import HTMLParser

from markdown.extensions.toc import slugify_unicode

from .sanitize import is_reserved_id, sanitize_html

# A post with this many headings or more opens with a table of contents (both formats).
TOC_MIN_HEADINGS = 3
# Tistory's 제목1, 제목2 and 제목3.
LISTED_HEADINGS = {"h2": 2, "h3": 3, "h4": 4}
# Ids the article page gives its own elements (templates/base.html, public/article.html).
# A heading must not take one: one named "Author" would catch the byline's #author link.
PAGE_IDS = frozenset({"main", "site-search-q", "author", "related-posts-title"})
# Put before those, and before the names the sanitiser keeps for the page (htmx-*, error-*;
# it would drop them), so that a heading called "Main" or "Author" has an anchor of its own.
RESERVED_NAME_PREFIX = "section-"


def heading_slug(text: str, separator: str = "-") -> str:
    """A heading's anchor: the toc extension's slug (Korean kept, `한미-동맹`), moved off the
    names the page keeps for itself. Markdown's toc extension uses it too."""
    slug = slugify_unicode(text, separator)
    if slug in PAGE_IDS or is_reserved_id(slug):
        return RESERVED_NAME_PREFIX + slug
    return slug


@dataclass
class _Heading:
    tag: str
    start: int  # where its start tag begins in the body
    start_tag: str  # the start tag as the body writes it
    attributes: list[tuple[str, str | None]]
    text: list[str] = field(default_factory=list)


class _HeadingReader(HTMLParser):
    """The h2-h4 headings of a sanitised body, where their start tags are, and every id the
    body uses. The body has every tag closed (nh3 wrote it), which html.parser reads in
    linear time; its getpos() gives where each start tag begins."""

    def __init__(self, body: str) -> None:
        super().__init__(convert_charrefs=True)
        # getpos() counts lines by "\n" and columns from the line's start.
        self._line_starts = [0, *itertools.accumulate(len(line) + 1 for line in body.split("\n"))]
        self.headings: list[_Heading] = []
        self.ids: set[str] = set()
        self.has_toc = False
        self._open: _Heading | None = None
        self._nested = 0  # elements named like the open heading, opened inside it

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            elif name == "class" and tag == "div" and "toc" in (value or "").split():
                self.has_toc = True
        if self._open is not None:
            # A heading inside a heading is part of its text, not a section of its own.
            if tag == self._open.tag:
                self._nested += 1
        elif tag in LISTED_HEADINGS:
            line, column = self.getpos()
            start = self._line_starts[line - 1] + column
            self._open = _Heading(tag, start, self.get_starttag_text() or "", attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._open is None or tag != self._open.tag:
            return
        if self._nested:
            self._nested -= 1
        else:
            self.headings.append(self._open)
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.text.append(data)


class _Anchors:
    """Ids for headings, unique in the body: heading_slug and, for a name taken, a `_1`,
    `_2` suffix as the toc extension adds. Each name remembers the next suffix to try, so
    thousands of headings of one name take linear time (markdown's own unique() starts
    again from `_1` for each `a_10`)."""

    def __init__(self, taken: set[str]) -> None:
        self._taken = set(taken)
        self._next_suffix: dict[str, int] = {}

    def new(self, text: str) -> str:
        base = heading_slug(text)
        anchor = base
        if not base or base in self._taken:
            suffix = self._next_suffix.get(base, 1)
            while f"{base}_{suffix}" in self._taken:
                suffix += 1
            self._next_suffix[base] = suffix + 1
            anchor = f"{base}_{suffix}"
        self._taken.add(anchor)
        return anchor


def _heading_text(heading: _Heading) -> str:
    return " ".join("".join(heading.text).split()).strip("\u200b\ufeff")


def _start_tag_with_id(heading: _Heading, anchor: str) -> str:
    """The heading's start tag as nh3 wrote it, with `anchor` as its first attribute, as nh3
    would write it too: heading_slug makes anchors of word characters, `-` and `_`."""
    name, rest = (
        heading.start_tag[: len(heading.tag) + 1],
        heading.start_tag[len(heading.tag) + 1 :],
    )
    return f'{name} id="{html.escape(anchor)}"{rest}'


def _table_of_contents(entries: list[tuple[int, str, str]]) -> str:
    """The markup Python-Markdown's toc extension writes, for (level, anchor, text) entries:
    nested lists, a deeper heading in the list of the one before it."""
    parts = ['<div class="toc">\n']
    levels: list[int] = []  # the level of each open list, outermost first
    for level, anchor, text in entries:
        if not levels or level > levels[-1]:
            parts.append("<ul>\n")
            levels.append(level)
        else:
            parts.append("</li>\n")
            while len(levels) > 1 and level <= levels[-2]:
                levels.pop()
                parts.append("</ul>\n</li>\n")
        parts.append(f'<li><a href="#{html.escape(anchor)}">{html.escape(text)}</a>')
    if levels:
        parts.append("</li>\n")
    while levels:
        levels.pop()
        parts.append("</ul>\n</li>\n" if levels else "</ul>\n")
    parts.append("</div>\n")
    return "".join(parts)


def with_heading_anchors(body: str) -> str:
    """A sanitised body with an id on each h2-h4 heading that has text (the author's own, or
    the toc extension's, kept) and, with TOC_MIN_HEADINGS of them or more, a table of
    contents at the top unless the body has one (the toc extension's, or the author's).
    What it returns is what sanitize_html would: sanitising it again changes nothing."""
    if not any(f"<{tag}" in body for tag in LISTED_HEADINGS):
        return body
    reader = _HeadingReader(body)
    reader.feed(body)
    reader.close()
    anchors = _Anchors(reader.ids)
    entries: list[tuple[int, str, str]] = []
    parts: list[str] = []
    position = 0
    for heading in reader.headings:
        text = _heading_text(heading)
        # Found where the parser said, or the body is left as it is.
        if not text or not body.startswith(heading.start_tag, heading.start):
            continue
        own_id = dict(heading.attributes).get("id")
        if own_id is not None and not own_id.strip():
            continue  # id="": the author's choice, and no anchor to list
        anchor = own_id or anchors.new(text)
        entries.append((LISTED_HEADINGS[heading.tag], anchor, text))
        if own_id is None:
            parts += [body[position : heading.start], _start_tag_with_id(heading, anchor)]
            position = heading.start + len(heading.start_tag)
    parts.append(body[position:])
    if len(entries) < TOC_MIN_HEADINGS or reader.has_toc:
        return "".join(parts)
    # Only the contents is new markup: it passes the allowlist (which adds links' rel).
    return f"{sanitize_html(_table_of_contents(entries))}\n{''.join(parts)}"
