"""Property tests (Hypothesis): arbitrary Unicode, huge and nested input, broken YAML.
Never a crash, never output that fails the XSS check, sanitising twice changes nothing."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from blog.content.jekyll.frontmatter import normalise_text, parse_front_matter, split_front_matter
from blog.content.jekyll.importer import JekyllImporter
from blog.content.markup import render_body
from blog.content.sanitize import sanitize_html
from blog.content.slugs import slugify
from tests.security.inert import problems
from tests.security.vectors import EVIL, HANDLERS, SCHEMES

TAGS = ["p", "a", "img", "div", "span", "script", "style", "svg", "math", "iframe", "table", "td",
        "tr", "form", "input", "b", "em", "template", "noscript", "textarea", "title", "xmp",
        "details", "summary", "pre", "code", "base", "meta", "link", "object", "mglyph",
        "mtext"]  # fmt: skip
ATTRIBUTES = ["href", "src", "style", "id", "class", "srcset", "cite", "title", "action",
              "formaction", "hx-get", "data-hx-post", "hx-on:click", "data-ke-size", "xlink:href",
              *HANDLERS[:8]]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(SCHEMES),
    st.sampled_from(
        [
            "x",
            "/x.png",
            "#a",
            "color: red",
            "position:fixed",
            f"url({EVIL})",
            "expression(alert(1))",
            "alert(1)",
            '" onerror="alert(1)',
            "size16",
        ]
    ),  # fmt: skip
    st.text(max_size=20),
)


@st.composite
def html_soup(draw: st.DrawFn, depth: int = 0) -> str:
    """Tag soup: allowed and forbidden tags, dangerous attributes, broken nesting."""
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        choice = draw(st.integers(0, 3))
        if choice == 0 or depth > 3:
            parts.append(draw(st.text(max_size=15)))
        elif choice == 1:
            parts.append(f"</{draw(st.sampled_from(TAGS))}>")
        else:
            tag = draw(st.sampled_from(TAGS))
            attrs = " ".join(
                f'{draw(st.sampled_from(ATTRIBUTES))}="{draw(VALUES)}"'
                for _ in range(draw(st.integers(0, 3)))
            )
            inner = draw(html_soup(depth + 1))
            closing = f"</{tag}>" if draw(st.booleans()) else ""
            parts.append(f"<{tag} {attrs}>{inner}{closing}")
    return "".join(parts)


MARKDOWN_CHARACTERS = "*_[]()<>!#`>-\n {}:.\"'=x"


def assert_inert(html: str) -> None:
    found = problems(f'<div class="post-body" hx-disable>{html}</div>')
    assert found == [], found


@settings(max_examples=300, deadline=None)
@given(st.one_of(html_soup(), st.text()))
@example("<div>" * 3000)
@example("<em>" * 5000 + "x")
@example("<a href=" + "j\tava\nscript:alert(1)>x</a>")
def test_sanitiser_output_is_inert_and_stable(html: str) -> None:
    once = sanitize_html(html)
    assert_inert(once)
    assert sanitize_html(once) == once


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(html_soup(), st.text(), st.text(alphabet="*_[]()<>!#`>-\n {}:.\"'=", max_size=300))
)
@example("*" * 3000 + "x" + "*" * 3000)
@example(">" * 1000 + " deep quote")
@example("[x](javascript:alert(1))\n{: onclick=alert(1)}")
def test_markdown_never_crashes_and_renders_inert(source: str) -> None:
    for source_format in ("markdown", "html"):
        rendered = render_body(source, source_format)
        assert_inert(rendered)
        assert render_body(source, source_format) == rendered  # deterministic


@settings(max_examples=500, deadline=None)
@given(st.text())
@example("한·미 동맹!")
@example("\u0000\u200b\ufeff--__--")
def test_slugs_are_clean_and_stable(text: str) -> None:
    slug = slugify(text)
    assert re.fullmatch(r"(?:[^\W_]+(?:-[^\W_]+)*)?", slug), slug
    assert len(slug) <= 120
    assert slugify(slug) == slug


FRONT_MATTER_LINES = st.sampled_from([
    "title: [tag] title", "title: a: b", "categories: Base\t", "tags: [a, b", "date: 2024-13-45",
    "date: 2023-01-29 18:30:22 2023 -0800", "published: false", "image:\n  path: /x.png",
    "\tindented: tab", "- list item", "key: 'unclosed", 'key: "unclosed', "excerpt: >",
    "  folded", "permalink: /:title/", "redirect_from: [/a, /b]", "{{ liquid }}: x",
    ": empty key", "---", "...",
])  # fmt: skip


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(st.one_of(FRONT_MATTER_LINES, st.text(max_size=30)), max_size=8),
    body=st.one_of(html_soup(), st.text(max_size=200)),
    raw=st.binary(max_size=200),
    name=st.sampled_from(
        ["2024-01-01-x.md", "2024-01-01-한글 [1].markdown", "2024-1-1-y.html", "z.md"]
    ),
)
def test_importer_never_crashes_on_broken_files(
    app_ctx: Flask,
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[str],
    body: str,
    raw: bytes,
    name: str,
) -> None:
    site = tmp_path_factory.mktemp("site")
    posts = site / "_posts"
    posts.mkdir()
    (posts / name).write_text("---\n" + "\n".join(lines) + "\n---\n" + body, encoding="utf-8")
    (posts / "2024-02-02-raw.md").write_bytes(raw)
    report = JekyllImporter(site, author=None, fallback_zone=ZoneInfo("Asia/Seoul")).run(
        dry_run=True
    )
    for result in report.files:
        assert result.outcome in {"imported", "updated", "skipped", "failed"}
        assert result.outcome != "failed" or result.reason


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_front_matter_parsing_never_raises_unexpectedly(text: str) -> None:
    yaml_text, _body, _warnings = split_front_matter(normalise_text(text))
    try:
        data, _ = parse_front_matter(yaml_text)
    except ValueError:
        return  # FrontMatterError: reported by name and reason, never a crash
    assert isinstance(data, dict)
