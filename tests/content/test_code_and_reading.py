"""Highlighted code, tables of contents, footnotes and reading time, as saving renders them;
rendering stored posts again after an upgrade."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select, update

from blog.content.markup import reading_minutes, render_body
from blog.content.posts import rerender_posts
from blog.content.sanitize import sanitize_html
from blog.database import writing
from blog.extensions import db
from blog.highlight_css import STYLESHEET, highlight_css
from blog.models import Post, Revision
from tests.conftest import MakePost


def test_korean_is_read_by_the_character_and_english_by_the_word() -> None:
    assert reading_minutes("<p>" + "가" * 500 + "</p>") == 1
    assert reading_minutes("<p>" + "가" * 501 + "</p>") == 2
    assert reading_minutes("<p>" + "word " * 230 + "</p>") == 1
    assert reading_minutes("<p>" + "word " * 231 + "</p>") == 2
    # Mixed: 250 characters (half a minute) and 115 words (half a minute).
    assert reading_minutes("<p>" + "한" * 250 + " " + "word " * 115 + "</p>") == 1
    assert reading_minutes("<p>대통령실은 AI 정책을 발표했다.</p>") == 1
    assert reading_minutes("") == 0 and reading_minutes("<p> </p><img src=a.png>") == 0


def test_markup_is_not_read_as_text() -> None:
    assert reading_minutes('<p><a href="' + "x" * 5000 + '">링크</a></p>') == 1


def test_pygments_classes_survive_sanitising() -> None:
    html = render_body("```python\nimport os  # 주석\nprint('안녕')\n```\n", "markdown")
    tokens = ('<span class="kn">import</span>', '<span class="nn">os</span>',
              '<span class="c1"># 주석</span>', "<span class=\"s1\">'안녕'</span>")  # fmt: skip
    for token in tokens:
        assert token in html, token
    assert html.startswith('<div class="highlight"><pre><span></span><code>')


def test_code_blocks_carry_no_inline_styles_and_dangerous_attributes_go() -> None:
    hostile = (
        '<div class="highlight" style="position: fixed; top: 0"><pre><code>'
        '<span class="k" onclick="alert(1)" hx-get="/admin" style="background: url(x)">if</span>'
        '<span class="n" style="color: #f00">x</span></code></pre></div>'
    )
    html = sanitize_html(hostile)
    assert '<span class="k">if</span>' in html
    assert '<span class="n" style="color: #f00">x</span>' in html  # a colour is harmless
    for gone in ("position", "onclick", "hx-get", "url("):
        assert gone not in html
    assert "style=" not in render_body("```js\nlet a = 1;\n```\n", "markdown")


def test_html_code_blocks_are_highlighted_and_other_code_is_left_alone() -> None:
    html = render_body(
        '<p>예:</p><pre><code class="language-python">if a &lt; b: pass</code></pre>'
        '<pre><code class="language-klingon">qapla</code></pre>'
        '<pre><code class="language-python">has <b>markup</b></code></pre>'
        '<pre><code class="language-python" onclick="x()">a</code></pre>',
        "html",
    )
    assert '<span class="k">if</span> <span class="n">a</span> <span class="o">&lt;</span>' in html
    assert '<pre><code class="language-klingon">qapla</code></pre>' in html
    assert '<pre><code class="language-python">has <b>markup</b></code></pre>' in html
    assert "onclick" not in html


def test_an_unclosed_html_code_block_is_left_as_written() -> None:
    html = render_body('<pre><code class="language-python">x = 1' + "<p>a</p>" * 100, "html")
    assert "x = 1" in html and 'class="highlight"' not in html


def test_long_posts_open_with_a_table_of_contents_with_korean_anchors() -> None:
    source = "## 한미 동맹\n\n본문.\n\n## 경제 협력\n\n### 반도체 공급망\n\n본문.\n"
    html = render_body(source, "markdown")
    assert html.startswith('<div class="toc">')
    assert '<a href="#한미-동맹"' in html and '<h2 id="한미-동맹">한미 동맹</h2>' in html
    assert '<a href="#반도체-공급망"' in html and '<h3 id="반도체-공급망">' in html


def test_short_posts_have_no_table_of_contents() -> None:
    assert 'class="toc"' not in render_body("## 하나\n\n## 둘\n\n본문.\n", "markdown")


def test_a_table_of_contents_the_author_placed_is_not_repeated() -> None:
    html = render_body("도입부.\n\n[TOC]\n\n## 가\n\n## 나\n\n## 다\n", "markdown")
    assert html.count('class="toc"') == 1 and html.startswith("<p>도입부.</p>")


def test_korean_footnotes_link_both_ways() -> None:
    html = render_body(
        "대통령실은 발표했다[^출처].\n\n[^출처]: 연합뉴스, 2024년 7월 22일.\n", "markdown"
    )
    assert '<sup id="fnref:출처"><a class="footnote-ref" href="#fn:출처"' in html
    assert '<li id="fn:출처">' in html and "연합뉴스, 2024년 7월 22일." in html
    assert 'class="footnote-backref" href="#fnref:출처"' in html


def test_the_committed_stylesheet_is_what_the_script_writes() -> None:
    css = STYLESHEET.read_text(encoding="utf-8")
    assert css == highlight_css(), "run `make highlight-css`"
    light, dark = css.split("@media (prefers-color-scheme: dark) {")
    assert ".highlight { background: #f8f8f8; }" in light and ".highlight .k {" in light
    assert ".highlight { background: #0d1117;" in dark and ".highlight .k {" in dark
    # Nothing outside code blocks: Pygments' own `pre { ... }` rule would restyle every <pre>.
    rules = [line.strip() for line in css.splitlines() if "{" in line and "@media" not in line]
    assert all(rule.startswith(".highlight") for rule in rules), rules


def test_rerender_brings_old_posts_up_to_date_without_a_revision(
    app: Flask, make_post: MakePost
) -> None:
    slug = make_post(title="Old", source="## 가\n\n## 나\n\n## 다\n\n```python\nx = 1\n```\n")
    with app.app_context(), writing():
        # As an older blog stored it: no highlighting, no TOC, reading time not counted.
        db.session.execute(
            update(Post).where(Post.slug == slug).values(
                body_html="<pre><code>x = 1</code></pre>", reading_minutes=None
            ).execution_options(synchronize_session=False)
        )  # fmt: skip
    with app.app_context():
        before = db.session.execute(select(Post.version).where(Post.slug == slug)).scalar_one()
        report = rerender_posts()
        assert report.rendered == 1 and not report.failed
        post = db.session.execute(select(Post).where(Post.slug == slug)).scalar_one()
        assert post.body_html.startswith('<div class="toc">')
        assert '<span class="n">x</span>' in post.body_html
        assert post.reading_minutes == 1 and post.version == before
        assert db.session.execute(select(Revision).where(Revision.post_id == post.id)).all()
        revisions = len(db.session.execute(select(Revision.id)).all())
        assert rerender_posts().rendered == 0  # nothing left to do
        assert rerender_posts(everything=True).rendered == 1
        assert len(db.session.execute(select(Revision.id)).all()) == revisions


def test_blog_rerender_renders_posts_of_an_older_blog_again(
    app: Flask, make_post: MakePost
) -> None:
    slug = make_post(title="Old", source="```python\nx = 1\n```\n",
                     published_at=datetime(2024, 7, 1, tzinfo=UTC))  # fmt: skip
    with app.app_context(), writing():
        db.session.execute(
            update(Post).where(Post.slug == slug).values(reading_minutes=None)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
    result = app.test_cli_runner().invoke(args=["rerender"])
    assert result.exit_code == 0, result.output
    assert "Rendered 1 post(s) again" in result.output
    with app.app_context():
        assert (
            db.session.execute(select(Post.reading_minutes).where(Post.slug == slug)).scalar_one()
            == 1
        )
