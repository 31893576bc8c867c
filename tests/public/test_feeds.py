"""Atom and RSS feeds: parse cleanly, validate against RFC 4287, carry whole posts with
absolute addresses, and go through the page cache like every public page."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select

from blog.auth.accounts import create_user
from blog.content import taxonomy
from blog.database import writing
from blog.extensions import db
from blog.models import Post, Role
from tests.conftest import MakePost

ATOM_SCHEMA = etree.RelaxNG(etree.parse(str(Path(__file__).parents[1] / "fixtures" / "atom.rng")))
BASE = "https://news.example.kr"
KOREAN_BODY = (
    "대통령실은 **오늘** 발표했다. [이전 기사](/posts/older) 참고.[^1]\n\n"
    '<img src="/static/favicon.png" alt="사진" srcset="/a.png 1x, /b.png 2x">\n\n'
    "[^1]: 각주 내용"
)
FEED_URLS = ["/feed.atom", "/feed.rss", "/feed.xml"]


@pytest.fixture
def app_with_base(app: Flask) -> Flask:
    app.config["BLOG_BASE_URL"] = BASE
    return app


@pytest.fixture
def newsroom(app_with_base: Flask, make_post: MakePost) -> Flask:
    """A reporter's Korean post, an older one, and posts readers must never see."""
    app = app_with_base
    with app.app_context(), writing():
        reporter = create_user("reporter", "a long password", Role.AUTHOR)
        reporter.display_name = "박지훈 기자"
        reporter_id = reporter.id
    make_post(title="이전 기사", slug="older", published_at=datetime(2024, 7, 1, tzinfo=UTC),
              categories=("정치",))  # fmt: skip
    make_post(title="대통령실은 오늘 <발표> & 설명", slug="대통령실-발표", source=KOREAN_BODY,
              published_at=datetime(2024, 7, 22, 1, 30, tzinfo=UTC), categories=("정치",),
              tags=("대통령실", "속보"), author_id=reporter_id,
              excerpt="대통령실 발표 요약")  # fmt: skip
    make_post(title="초안 비밀", slug="draft", status="draft", categories=("정치",))
    make_post(title="예약 비밀", slug="later", status="scheduled", categories=("정치",),
              published_at=datetime(2099, 1, 1, tzinfo=UTC))  # fmt: skip
    make_post(title="숨김 비밀", slug="unlisted", status="unlisted", categories=("정치",))
    make_post(title="휴지통 비밀", slug="trashed", categories=("정치",))
    with app.app_context(), writing():
        trashed = db.session.execute(select(Post).where(Post.slug == "trashed")).scalar_one()
        trashed.deleted_at = datetime(2024, 8, 1, tzinfo=UTC)
    return app


def _parsed(client: FlaskClient, url: str) -> feedparser.FeedParserDict:
    response = client.get(url)
    assert response.status_code == 200, url
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, (url, parsed.get("bozo_exception"))
    return parsed


def _valid_atom(body: bytes) -> None:
    document = etree.fromstring(body)
    assert ATOM_SCHEMA.validate(document), ATOM_SCHEMA.error_log


@pytest.mark.parametrize("url", FEED_URLS)
def test_every_feed_parses_cleanly_with_the_posts_readers_may_see(
    newsroom: Flask, url: str
) -> None:
    parsed = _parsed(newsroom.test_client(), url)
    titles = [entry.title for entry in parsed.entries]
    assert titles == ["대통령실은 오늘 <발표> & 설명", "이전 기사"]  # newest first
    assert parsed.feed.title == "Test Blog"
    assert parsed.feed.link == f"{BASE}/"


@pytest.mark.parametrize("url", ["/feed.atom", "/feed.xml", "/category/정치/feed.atom"])
def test_atom_feeds_validate_against_rfc_4287(newsroom: Flask, url: str) -> None:
    response = newsroom.test_client().get(quote(url))
    assert response.content_type == "application/atom+xml; charset=utf-8"
    _valid_atom(response.data)


def test_the_schema_refuses_what_rfc_4287_refuses() -> None:
    # The check has teeth: a feed without id and with a date-only updated is refused.
    feed = b'<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><updated>2024-01-01</updated></feed>'  # noqa: E501
    assert not ATOM_SCHEMA.validate(etree.fromstring(feed))


def test_an_atom_entry_carries_the_whole_post_with_absolute_addresses(newsroom: Flask) -> None:
    parsed = _parsed(newsroom.test_client(), "/feed.atom")
    entry = parsed.entries[0]
    url = f"{BASE}/posts/{quote('대통령실-발표')}"
    assert (entry.id, entry.link) == (url, url)
    assert entry.author == "박지훈 기자"
    assert entry.summary == "대통령실 발표 요약"
    html = entry.content[0].value
    assert entry.content[0].type == "text/html"
    assert "대통령실은 <strong>오늘</strong> 발표했다" in html
    assert f'href="{BASE}/posts/older"' in html
    assert f'src="{BASE}/static/favicon.png"' in html
    # (feedparser's own sanitiser drops srcset: read it from the document itself.)
    atom = etree.fromstring(newsroom.test_client().get("/feed.atom").data)
    raw = atom.findtext("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content")
    assert f'srcset="{BASE}/a.png 1x, {BASE}/b.png 2x"' in raw
    # Footnote links point into the post itself.
    assert f'href="{url}#fn' in html
    assert 'href="/' not in html and 'src="/' not in html
    assert {(tag.term, tag.scheme) for tag in entry.tags} == {
        ("정치", f"{BASE}/category/"),
        ("대통령실", f"{BASE}/tag/"),
        ("속보", f"{BASE}/tag/"),
    }


def test_feed_times_carry_the_site_zone(newsroom: Flask) -> None:
    body = newsroom.test_client().get("/feed.atom").text
    # 01:30 UTC is 10:30 in Seoul, written with its offset.
    assert "<published>2024-07-22T10:30:00+09:00</published>" in body
    entry = _parsed(newsroom.test_client(), "/feed.atom").entries[0]
    assert entry.published_parsed[:5] == (2024, 7, 22, 1, 30)  # feedparser gives UTC
    assert entry.updated_parsed >= entry.published_parsed
    rss = newsroom.test_client().get("/feed.rss").text
    assert "<pubDate>Mon, 22 Jul 2024 10:30:00 +0900</pubDate>" in rss


def test_an_rss_item_has_full_content_author_and_categories(newsroom: Flask) -> None:
    parsed = _parsed(newsroom.test_client(), "/feed.rss")
    assert parsed.version == "rss20"
    item = parsed.entries[0]
    assert item.author == "박지훈 기자"  # dc:creator: RSS's <author> wants an e-mail address
    assert item.summary == "대통령실 발표 요약"
    assert f'href="{BASE}/posts/older"' in item.content[0].value
    assert {tag.term for tag in item.tags} == {"정치", "대통령실", "속보"}
    assert item.id == f"{BASE}/posts/{quote('대통령실-발표')}"


def test_category_and_tag_feeds_hold_only_their_posts(newsroom: Flask) -> None:
    client = newsroom.test_client()
    for url in ("/category/정치/feed.atom", "/category/정치/feed.rss"):
        parsed = _parsed(client, quote(url))
        assert [entry.title for entry in parsed.entries] == ["대통령실은 오늘 <발표> & 설명",
                                                            "이전 기사"]  # fmt: skip
        assert parsed.feed.title == "정치 · Test Blog"
        assert parsed.feed.link == f"{BASE}/category/{quote('정치')}"
    tagged = _parsed(client, quote("/tag/속보/feed.rss"))
    assert [entry.title for entry in tagged.entries] == ["대통령실은 오늘 <발표> & 설명"]


def test_feeds_of_unknown_or_unused_terms_are_404(newsroom: Flask, make_post: MakePost) -> None:
    make_post(title="초안", status="draft", tags=("초안뿐",))
    client = newsroom.test_client()
    assert client.get("/category/nothing/feed.atom").status_code == 404
    assert client.get(quote("/tag/초안뿐/feed.atom")).status_code == 404
    assert client.get("/feed.json").status_code == 404
    assert client.get("/category/정치/feed.atomx").status_code == 404


def test_a_renamed_category_feed_answers_its_old_address_with_301(newsroom: Flask) -> None:
    with newsroom.app_context(), writing():
        term = taxonomy.find_by_name("category", "정치")
        assert term is not None
        taxonomy.rename_term(term, "Politics", None)
    moved = newsroom.test_client().get(quote("/category/정치/feed.rss"))
    assert (moved.status_code, moved.headers["Location"]) == (301, "/category/politics/feed.rss")


def test_drafts_scheduled_unlisted_and_trashed_posts_never_appear(newsroom: Flask) -> None:
    client = newsroom.test_client()
    for url in [*FEED_URLS, "/category/정치/feed.atom", "/category/정치/feed.rss"]:
        body = client.get(quote(url)).text
        assert "비밀" not in body, url


def test_a_scheduled_post_enters_the_feed_at_its_time(
    app_with_base: Flask, make_post: MakePost
) -> None:  # noqa: E501
    now = datetime(2024, 7, 22, tzinfo=UTC)
    app_with_base.config["CLOCK"] = lambda: now
    make_post(title="예약 기사", status="scheduled", published_at=now + timedelta(hours=1))
    client = app_with_base.test_client()
    assert _parsed(client, "/feed.atom").entries == []
    now += timedelta(hours=2)
    assert [entry.title for entry in _parsed(client, "/feed.atom").entries] == ["예약 기사"]


def test_an_empty_blog_has_a_valid_empty_feed(app_with_base: Flask) -> None:
    client = app_with_base.test_client()
    _valid_atom(client.get("/feed.atom").data)
    assert _parsed(client, "/feed.rss").entries == []


def test_feeds_list_the_latest_twenty(app_with_base: Flask, make_post: MakePost) -> None:
    for number in range(23):
        make_post(title=f"기사 {number}", published_at=datetime(2024, 1, 1, tzinfo=UTC)
                  + timedelta(hours=number))  # fmt: skip
    entries = _parsed(app_with_base.test_client(), "/feed.atom").entries
    assert [entry.title for entry in entries] == [f"기사 {n}" for n in range(22, 2, -1)]


def test_control_characters_in_old_rows_do_not_break_the_feed(
    app_with_base: Flask, make_post: MakePost
) -> None:
    make_post(title="제목", slug="old-row")
    with app_with_base.app_context(), writing():
        post = db.session.execute(select(Post).where(Post.slug == "old-row")).scalar_one()
        # Written by an older version, or by hand (PostgreSQL cannot hold a NUL at all).
        post.title = "제목\x0b\x00끝" if db.engine.dialect.name == "sqlite" else "제목\x0b\x1f끝"
    parsed = _parsed(app_with_base.test_client(), "/feed.atom")
    assert parsed.entries[0].title == "제목끝"


def test_feeds_go_through_the_page_cache(newsroom: Flask, make_post: MakePost) -> None:
    client = newsroom.test_client()
    first = client.get("/feed.atom")
    tag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    again = client.get("/feed.atom", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    packed = client.get("/feed.rss", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert "대통령실" in gzip.decompress(packed.data).decode()
    # A save changes the feed at once: the old copy is not served, the old ETag not honoured.
    make_post(title="새 기사", published_at=datetime(2024, 9, 1, tzinfo=UTC))
    fresh = client.get("/feed.atom", headers={"If-None-Match": tag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != tag
    assert _parsed(client, "/feed.atom").entries[0].title == "새 기사"


def test_every_page_advertises_the_feeds(newsroom: Flask) -> None:
    client = newsroom.test_client()
    for url in ("/", f"/posts/{quote('대통령실-발표')}", "/login"):
        page = client.get(url).text
        assert (
            '<link rel="alternate" type="application/atom+xml" title="Test Blog" href="/feed.atom">'
            in page
        )  # noqa: E501
        assert 'type="application/rss+xml" title="Test Blog (RSS)" href="/feed.rss">' in page
    category = client.get(quote("/category/정치")).text
    atom = quote("/category/정치/feed.atom")
    assert f'type="application/atom+xml" title="정치 · Test Blog" href="{atom}">' in category
    assert f'href="{quote("/category/정치/feed.rss")}"' in category
    tag = client.get(quote("/tag/속보")).text
    assert f'href="{quote("/tag/속보/feed.atom")}"' in tag
