"""Headings written as HTML get anchors and, in a long post, the table of contents Markdown's
toc extension makes: in HTML posts, and in Markdown posts of pasted Tistory HTML (the sample)."""

from __future__ import annotations

from urllib.parse import quote
from xml.etree.ElementTree import Element

import html5lib
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from blog.auth.accounts import create_user
from blog.content.jekyll.frontmatter import split_front_matter
from blog.content.markup import render_body
from blog.content.posts import rerender_posts
from blog.content.sanitize import sanitize_html
from blog.database import writing
from blog.extensions import db
from blog.models import Post, Role
from tests.conftest import MakePost
from tests.public.test_article import SAMPLE, SEED_SLUG, import_sample

SAMPLE_HEADINGS = ["한·미 동맹과 글로벌 포괄 전략", "한·미 관계의 중요성",
                   "미래 지향적인 한·미 동맹", "마무리"]  # fmt: skip
SAMPLE_ANCHORS = ["한미-동맹과-글로벌-포괄-전략", "한미-관계의-중요성",
                  "미래-지향적인-한미-동맹", "마무리"]  # fmt: skip
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _parsed(html: str) -> Element:
    return html5lib.parse(html, namespaceHTMLElements=False)


def contents_links(html: str) -> list[tuple[str, str]]:
    """(href, text) of each link in the page's tables of contents, in order."""
    return [
        (link.get("href") or "", "".join(link.itertext()))
        for toc in _parsed(html).iter("div")
        if "toc" in (toc.get("class") or "").split()
        for link in toc.iter("a")
    ]


def headings(html: str) -> list[tuple[str, str | None, str]]:
    """(tag, id, text) of each heading, in order."""
    return [(element.tag, element.get("id"), "".join(element.itertext()))
            for element in _parsed(html).iter() if element.tag in HEADINGS]  # fmt: skip


def assert_links_lead_to_headings(html: str) -> None:
    """Each contents link's fragment is the id of one element, a heading with the link's text."""
    elements: dict[str, list[Element]] = {}
    for element in _parsed(html).iter():
        if element.get("id") is not None:
            elements.setdefault(element.get("id") or "", []).append(element)
    links = contents_links(html)
    assert links
    for href, text in links:
        assert href.startswith("#"), href
        found = elements.get(href[1:], [])
        assert len(found) == 1, (href, len(found))
        assert found[0].tag in HEADINGS and "".join(found[0].itertext()) == text


def sample_body() -> str:
    text = next((SAMPLE / "_posts").glob("*.md")).read_text(encoding="utf-8")
    return split_front_matter(text)[1]


def test_the_sample_post_opens_with_contents_leading_to_its_four_korean_headings(
    app: Flask, client: FlaskClient
) -> None:
    import_sample(app)
    html = client.get(f"/posts/{quote(SEED_SLUG)}").text
    assert contents_links(html) == [
        (f"#{anchor}", text) for anchor, text in zip(SAMPLE_ANCHORS, SAMPLE_HEADINGS, strict=True)
    ]
    assert_links_lead_to_headings(html)
    # Korean written as it is, as the Markdown toc writes it, not percent-encoded.
    assert '<li><a href="#마무리" rel="noopener noreferrer">마무리</a></li>' in html
    assert '<h2 id="마무리" data-ke-size="size26">마무리</h2>' in html
    body = html.split('<div class="post-body', 1)[1]
    assert body.split(">", 1)[1].lstrip().startswith('<div class="toc">')


def test_the_sample_as_an_html_post_gets_the_same_contents(
    client: FlaskClient, make_post: MakePost
) -> None:
    slug = make_post(title="샘플", source=sample_body(), source_format="html")
    html = client.get(f"/posts/{slug}").text
    assert [href for href, _ in contents_links(html)] == [f"#{a}" for a in SAMPLE_ANCHORS]
    assert_links_lead_to_headings(html)


def test_html_headings_get_the_contents_markdown_headings_get() -> None:
    source = "## 한미 동맹\n\n## 경제 협력\n\n### 반도체 공급망\n\n#### 넷\n\n## 끝\n"
    markdown = render_body(source, "markdown")
    html = render_body(
        '<h2>한미 동맹</h2><h2 data-ke-size="size26">경제 협력</h2><p>본문</p>'
        "<h3>반도체 공급망</h3><h4>넷</h4><h2>끝</h2>",
        "html",
    )
    assert html.startswith('<div class="toc">')
    assert html.split("</div>", 1)[0] == markdown.split("</div>", 1)[0]
    assert [h[:2] for h in headings(html)] == [h[:2] for h in headings(markdown)]
    assert '<h2 id="경제-협력" data-ke-size="size26">경제 협력</h2>' in html
    assert_links_lead_to_headings(html)


def test_a_post_with_two_headings_gets_anchors_but_no_contents() -> None:
    html = render_body("<h2>하나</h2><p>본문</p><h3>둘</h3><p>본문</p>", "html")
    assert 'class="toc"' not in html
    assert html == '<h2 id="하나">하나</h2><p>본문</p><h3 id="둘">둘</h3><p>본문</p>'


def test_only_h2_to_h4_with_text_are_listed() -> None:
    html = render_body(
        "<h1>제목</h1><h2>가</h2><h5>작은</h5><h2>&nbsp;</h2><h3><img src=a.png alt=사진></h3>"
        "<h4>나</h4><h6>더 작은</h6>",
        "html",
    )
    assert 'class="toc"' not in html
    assert [h[:2] for h in headings(html)] == [
        ("h1", None), ("h2", "가"), ("h5", None), ("h2", None), ("h3", None), ("h4", "나"),
        ("h6", None),
    ]  # fmt: skip


def test_an_author_s_own_ids_are_kept_and_repeated_names_numbered() -> None:
    html = render_body(
        '<h2 id="intro">소개</h2><h2>소개</h2><h2>소개</h2><p id="소개_1">각주</p>'
        "<h3>소개</h3><h2>???</h2><h2>!!!</h2>",
        "html",
    )
    assert [h[1] for h in headings(html)] == ["intro", "소개", "소개_2", "소개_3", "_1", "_2"]
    assert [href for href, _ in contents_links(html)] == [
        "#intro", "#소개", "#소개_2", "#소개_3", "#_1", "#_2"
    ]  # fmt: skip
    assert_links_lead_to_headings(html)


def test_a_contents_the_author_placed_is_not_repeated() -> None:
    html = render_body(
        '<p>도입</p><div class="toc"><ul><li><a href="#가">가</a></li></ul></div>'
        "<h2>가</h2><h2>나</h2><h2>다</h2>",
        "html",
    )
    assert html.count('class="toc"') == 1 and html.startswith("<p>도입</p>")
    assert [h[1] for h in headings(html)] == ["가", "나", "다"]


def test_headings_named_like_the_page_s_own_ids_get_anchors_of_their_own() -> None:
    source = "<h2>Main</h2><h2>Author</h2><h3>htmx-boost</h3><h4>error-title</h4>"
    expected = ["section-main", "section-author", "section-htmx-boost", "section-error-title"]
    html = render_body(source, "html")
    assert [h[1] for h in headings(html)] == expected
    assert_links_lead_to_headings(html)
    markdown = render_body("## Main\n\n## Author\n\n### htmx-boost\n\n#### error-title\n",
                           "markdown")  # fmt: skip
    assert [h[1] for h in headings(markdown)] == expected
    assert_links_lead_to_headings(markdown)


def test_no_id_on_an_article_page_is_given_twice(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    with app.app_context(), writing():
        kim = create_user("kim", "a long password", Role.AUTHOR, display_name="김민지 기자")
        kim.bio = "사회부"
        db.session.flush()
        kim_id = kim.id
    make_post(title="관련 기사", tags=("동맹",))
    page_ids = ["main", "author", "related-posts-title", "site-search-q", "section-main"]
    source = "".join(f"<h2>{name.replace('-', ' ')}</h2>" for name in page_ids)
    slug = make_post(title="기사", source=source, source_format="html", tags=("동맹",),
                     author_id=kim_id)  # fmt: skip
    html = client.get(f"/posts/{slug}").text
    ids = [element.get("id") for element in _parsed(html).iter() if element.get("id")]
    assert {"main", "author", "related-posts-title", "site-search-q"} <= set(ids)
    assert len(ids) == len(set(ids)), sorted(ids)
    assert_links_lead_to_headings(html)


def test_hostile_heading_text_stays_text() -> None:
    long = "가" * 10_000
    source = (
        "<h2>\"'><script>alert(1)</script>&lt;img src=x onerror=alert(1)&gt;</h2>"
        '<h2>a" onmouseover="alert(1)</h2>'
        f"<h2>{long}</h2><h2>{long}</h2><h2>{long}</h2><h3>\x00</h3><h2>htmx</h2>"
    )
    html = render_body(source, "html")
    document = _parsed(html)
    assert not [e for e in document.iter() if e.tag in {"script", "img"}]
    assert not [e for e in document.iter() if any(name.startswith("on") for name in e.attrib)]
    assert [text for _, text in contents_links(html)][:2] == [
        "\"'><img src=x onerror=alert(1)>", 'a" onmouseover="alert(1)'
    ]  # fmt: skip
    assert [h[1] for h in headings(html)] == [
        "img-srcx-onerroralert1", "a-onmouseoveralert1", long, f"{long}_1", f"{long}_2",
        None,  # the NUL is gone: an empty heading
        "section-htmx",
    ]  # fmt: skip
    assert_links_lead_to_headings(html)
    assert sanitize_html(html) == html and render_body(source, "html") == html


def test_rendering_again_changes_nothing() -> None:
    once = render_body(sample_body(), "html")
    assert render_body(once, "html") == once


def test_rerender_all_gives_older_html_posts_their_contents(
    app: Flask, make_post: MakePost
) -> None:
    slug = make_post(title="옛 글", source="<h2>가</h2><h2>나</h2><h2>다</h2>",
                     source_format="html")  # fmt: skip
    with app.app_context(), writing():
        # As the version before stored it: no anchors, reading time counted.
        db.session.execute(
            update(Post).where(Post.slug == slug).values(
                body_html="<h2>가</h2><h2>나</h2><h2>다</h2>"
            ).execution_options(synchronize_session=False)
        )  # fmt: skip
    with app.app_context():
        assert rerender_posts().rendered == 0  # what `blog init` does: not enough
        assert rerender_posts(everything=True).rendered == 1  # `blog rerender --all`
        body = db.session.execute(select(Post.body_html).where(Post.slug == slug)).scalar_one()
    assert body.startswith('<div class="toc">')
    assert_links_lead_to_headings(body)
