"""What an article's head tells search engines and link previews, checked by value; list
pages' canonical and next/prev; site verification tags; the settings that drive them."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from urllib.parse import quote

import html5lib
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from blog.auth.accounts import create_user
from blog.content.link_previews import first_image, json_script
from blog.content.settings import set_setting
from blog.database import writing
from blog.extensions import db
from blog.models import Media, Role
from blog.security import CONTENT_SECURITY_POLICY
from tests.conftest import Login, MakePost, post_form

BASE = "https://news.example.kr"
SLUG = "대통령실-발표"
ARTICLE = f"/posts/{quote(SLUG)}"


def _head(html: str) -> tuple[dict[str, list[str]], list[dict[str, str]]]:
    """(meta property/name -> contents, links) of a page's head, as a parser reads them."""
    document = html5lib.parse(html, namespaceHTMLElements=False)
    head = document.find("head")
    assert head is not None
    metas: dict[str, list[str]] = {}
    for meta in head.iter("meta"):
        key = meta.get("property") or meta.get("name")
        if key:
            metas.setdefault(key, []).append(meta.get("content", ""))
    return metas, [dict(link.attrib) for link in head.iter("link")]


def _json_ld(html: str) -> dict[str, object]:
    document = html5lib.parse(html, namespaceHTMLElements=False)
    blocks = [s for s in document.iter("script") if s.get("type") == "application/ld+json"]
    assert len(blocks) == 1
    return json.loads(blocks[0].text)  # type: ignore[no-any-return]


def _png(width: int, height: int) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(output, "PNG")
    return output.getvalue()


@pytest.fixture
def article(app: Flask, client: FlaskClient, login: Login, make_post: MakePost) -> str:
    """A Korean article with an uploaded 1200x630 feature image, a byline, a category and
    two tags; returns the image's path."""
    app.config["BLOG_BASE_URL"] = BASE
    login("admin")
    upload = post_form(client, "/admin/media", {"file": (io.BytesIO(_png(1200, 630)), "사진.png")},
                       content_type="multipart/form-data")  # fmt: skip
    assert upload.status_code == 303
    with app.app_context():
        media = db.session.execute(select(Media)).scalar_one()
        image = f"/media/{media.sha256}/{quote(media.filename)}"
    with app.app_context(), writing():
        reporter = create_user("reporter", "a long password", Role.AUTHOR)
        reporter.display_name = "박지훈 기자"
        reporter_id = reporter.id
    make_post(
        title="대통령실은 </script><!-- 발표",
        slug=SLUG,
        excerpt='대통령실이 오늘 "중대" 발표를 했다.',
        feature_image=image,
        categories=("정치",),
        tags=("대통령실", "속보"),
        author_id=reporter_id,
        published_at=datetime(2024, 7, 22, 1, 30, tzinfo=UTC),
    )
    return image


def test_an_article_head_carries_open_graph_and_twitter_values(app: Flask, article: str) -> None:
    page = app.test_client().get(ARTICLE).text
    metas, links = _head(page)
    url = f"{BASE}{ARTICLE}"
    assert [link["href"] for link in links if link.get("rel") == "canonical"] == [url]
    assert metas["description"] == ['대통령실이 오늘 "중대" 발표를 했다.']
    assert metas["og:type"] == ["article"]
    assert metas["og:title"] == ["대통령실은 </script><!-- 발표"]
    assert metas["og:description"] == ['대통령실이 오늘 "중대" 발표를 했다.']
    assert metas["og:url"] == [url]
    assert metas["og:site_name"] == ["Test Blog"]
    assert metas["og:locale"] == ["en_US"]
    assert metas["og:image"] == [f"{BASE}{article}"]
    assert (metas["og:image:width"], metas["og:image:height"]) == (["1200"], ["630"])
    assert metas["article:published_time"] == ["2024-07-22T10:30:00+09:00"]
    modified = datetime.fromisoformat(metas["article:modified_time"][0])
    assert modified.utcoffset().total_seconds() == 9 * 3600  # type: ignore[union-attr]
    assert modified >= datetime(2024, 7, 22, 1, 30, tzinfo=UTC)
    assert metas["article:section"] == ["정치"]
    assert metas["article:tag"] == ["대통령실", "속보"]
    assert metas["twitter:card"] == ["summary_large_image"]
    assert metas["twitter:title"] == ["대통령실은 </script><!-- 발표"]
    assert metas["twitter:image"] == [f"{BASE}{article}"]


def test_the_json_ld_parses_and_names_the_article(app: Flask, article: str) -> None:
    page = app.test_client().get(ARTICLE).text
    # The title's </script> and <!-- cannot end or bend the data block.
    assert page.count("</script>") == page.count("<script")
    data = _json_ld(page)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == "대통령실은 </script><!-- 발표"
    assert data["image"] == [f"{BASE}{article}"]
    assert data["datePublished"] == "2024-07-22T10:30:00+09:00"
    assert data["dateModified"] >= data["datePublished"]  # type: ignore[operator]
    assert data["author"] == [{"@type": "Person", "name": "박지훈 기자"}]
    assert data["publisher"] == {"@type": "Organization", "name": "Test Blog", "url": f"{BASE}/"}
    assert data["mainEntityOfPage"] == {"@type": "WebPage", "@id": f"{BASE}{ARTICLE}"}
    assert data["articleSection"] == "정치"
    assert data["keywords"] == ["대통령실", "속보"]


def test_the_json_ld_block_is_data_the_csp_lets_be(app: Flask, article: str) -> None:
    response = app.test_client().get(ARTICLE)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert '<script type="application/ld+json">' in response.text  # not executable: no hash


def test_json_script_escapes_what_could_end_the_element() -> None:
    text = str(json_script({"a": "</script><!--<b>&\u2028"}))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!--<b>&\u2028"}


def test_blog_posting_is_a_setting(app: Flask, article: str) -> None:
    with app.app_context(), writing():
        set_setting("article_schema", "BlogPosting")
    assert _json_ld(app.test_client().get(ARTICLE).text)["@type"] == "BlogPosting"


def test_a_post_without_image_or_byline_gets_a_summary_card_and_the_newsroom_as_author(
    app: Flask, make_post: MakePost
) -> None:
    app.config["BLOG_BASE_URL"] = BASE
    make_post(title="글만", slug="plain", source="본문만 있다.")
    page = app.test_client().get("/posts/plain").text
    metas, _ = _head(page)
    assert metas["twitter:card"] == ["summary"]
    assert "og:image" not in metas and "article:section" not in metas
    data = _json_ld(page)
    assert "image" not in data
    assert data["author"] == [{"@type": "Organization", "name": "Test Blog", "url": f"{BASE}/"}]


def test_the_body_s_first_image_stands_in_for_a_missing_feature_image(
    app: Flask, make_post: MakePost
) -> None:
    app.config["BLOG_BASE_URL"] = BASE
    body = '첫 문단\n\n<img src="https://cdn.example.kr/a.jpg?x=1&amp;y=2" alt="">'
    make_post(title="사진 기사", slug="photo", source=body)
    metas, _ = _head(app.test_client().get("/posts/photo").text)
    assert metas["og:image"] == ["https://cdn.example.kr/a.jpg?x=1&y=2"]
    assert "og:image:width" not in metas  # not in the media store: no size is claimed
    assert metas["twitter:card"] == ["summary_large_image"]


def test_first_image_reads_sanitised_html_in_linear_time() -> None:
    assert (
        first_image('<p>x</p><img alt="a" src="/media/x.png"><img src="/b.png">') == "/media/x.png"
    )  # noqa: E501
    assert first_image('<img alt="only">') == ""
    assert first_image('<img src="javascript:alert(1)"><img src="/ok.png">') == "/ok.png"
    assert first_image("<img " * 50_000) == ""


def test_korean_site_language_gives_a_korean_locale(app: Flask, make_post: MakePost) -> None:
    with app.app_context(), writing():
        set_setting("language", "ko")
    make_post(title="한국어", slug="ko")
    metas, _ = _head(app.test_client().get("/posts/ko").text)
    assert metas["og:locale"] == ["ko_KR"]
    assert _json_ld(app.test_client().get("/posts/ko").text)["inLanguage"] == "ko"


def test_list_pages_have_canonical_and_next_prev(app: Flask, make_post: MakePost) -> None:
    app.config["BLOG_BASE_URL"] = BASE
    for number in range(7):  # three a page
        make_post(title=f"기사 {number}", categories=("정치",))
    client = app.test_client()
    metas, links = _head(client.get("/?utm_source=kakao").text)
    rel = {
        link["rel"]: link["href"] for link in links if link["rel"] in {"canonical", "next", "prev"}
    }  # noqa: E501
    assert rel["canonical"] == f"{BASE}/"  # tracking parameters are not part of the address
    assert rel["next"].startswith(f"{BASE}/?before=") and "prev" not in rel
    assert metas["og:type"] == ["website"] and metas["og:url"] == [f"{BASE}/"]
    second_url = rel["next"].removeprefix(BASE)
    _, links = _head(client.get(second_url).text)
    rel = {
        link["rel"]: link["href"] for link in links if link["rel"] in {"canonical", "next", "prev"}
    }  # noqa: E501
    assert rel["canonical"] == f"{BASE}{second_url}"
    assert rel["prev"].startswith(f"{BASE}/?after=") and rel["next"].startswith(f"{BASE}/?before=")
    _, links = _head(client.get("/category/정치?page=003").text)
    canonical = [link["href"] for link in links if link["rel"] == "canonical"]
    assert canonical == [f"{BASE}/category/{quote('정치')}?page=3"]


def test_verification_tags_appear_when_set(app: Flask) -> None:
    client = app.test_client()
    metas, _ = _head(client.get("/").text)
    assert not {"google-site-verification", "naver-site-verification", "msvalidate.01"} & set(metas)
    with app.app_context(), writing():
        set_setting("google_site_verification", "g00gle_Code-1")
        set_setting("naver_site_verification", "naver0123abc")
        set_setting("bing_site_verification", "B1NGCODE")
    metas, _ = _head(client.get("/").text)
    assert metas["google-site-verification"] == ["g00gle_Code-1"]
    assert metas["naver-site-verification"] == ["naver0123abc"]
    assert metas["msvalidate.01"] == ["B1NGCODE"]


def _settings(**changes: str) -> dict[str, str]:
    return {"title": "우리 신문", "description": "", "language": "ko", "timezone": "Asia/Seoul",
            "posts_per_page": "5", "article_schema": "NewsArticle", **changes}  # fmt: skip


def test_the_settings_page_saves_the_base_url_and_codes(
    app: Flask, client: FlaskClient, login: Login, make_post: MakePost
) -> None:
    login("admin")
    response = post_form(client, "/admin/settings", _settings(
        base_url=" https://news.example.kr/ ", article_schema="BlogPosting",
        google_site_verification="abc_DEF-123", naver_site_verification="",
        bing_site_verification="0123456789ABCDEF"))  # fmt: skip
    assert response.status_code == 303, response.text
    make_post(title="기사", slug="a")
    page = app.test_client().get("/posts/a").text
    metas, links = _head(page)
    assert metas["og:url"] == ["https://news.example.kr/posts/a"]
    assert metas["google-site-verification"] == ["abc_DEF-123"]
    assert "naver-site-verification" not in metas
    assert _json_ld(page)["@type"] == "BlogPosting"
    robots = app.test_client().get("/robots.txt").text
    assert "Sitemap: https://news.example.kr/sitemap.xml" in robots


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("base_url", "javascript:alert(1)"),
        ("base_url", "news.example.kr"),
        ("base_url", "https://news.example.kr\n/x"),
        ("base_url", "https://user@news.example.kr"),
        ("base_url", "https://news.example.kr/?a=1"),
        ("base_url", "https://news.example.kr:99999"),
        ("base_url", "https://" + "a" * 10_000 + ".kr"),
        ("base_url", "https://news.example.kr/\x00"),
        ("google_site_verification", '<meta name="google-site-verification" content="x">'),
        ("naver_site_verification", "code\nwith newline"),
        ("bing_site_verification", "x" * 10_000),
        ("article_schema", "Person"),
    ],
)
def test_hostile_settings_come_back_with_the_problem_named_and_the_text_kept(
    app: Flask, client: FlaskClient, login: Login, field: str, value: str
) -> None:
    login("admin")
    response = post_form(client, "/admin/settings", _settings(**{field: value}))
    assert response.status_code == 422
    document = html5lib.parse(response.text, namespaceHTMLElements=False)
    error = document.find(f".//p[@id='error-{field}']")
    assert error is not None and error.text, response.text
    if field != "article_schema":
        kept = document.find(f".//input[@name='{field}']")
        assert kept is not None and kept.get("value") == value.replace("\x00", "\ufffd")
    with app.app_context():
        assert app.test_client().get("/robots.txt").text.count("news.example.kr") == 0
