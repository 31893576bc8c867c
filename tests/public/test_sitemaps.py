"""Sitemaps, the Google News sitemap and robots.txt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from flask import Flask
from lxml import etree
from sqlalchemy import select

from blog.database import writing
from blog.extensions import db
from blog.models import Post
from tests.conftest import MakePost
from tests.test_page_cache import cache_of

BASE = "https://news.example.kr"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9",
      "news": "http://www.google.com/schemas/sitemap-news/0.9"}  # fmt: skip
NOW = datetime(2024, 7, 22, 3, 0, tzinfo=UTC)


@pytest.fixture
def site(app: Flask, make_post: MakePost) -> Flask:
    app.config["BLOG_BASE_URL"] = BASE
    app.config["CLOCK"] = lambda: NOW
    make_post(title="정치 기사", slug="정치-기사", categories=("정치",), tags=("대통령실",),
              published_at=datetime(2024, 7, 1, tzinfo=UTC))  # fmt: skip
    make_post(title="경제 기사", slug="economy", categories=("경제",),
              published_at=datetime(2024, 7, 21, 9, tzinfo=UTC))  # fmt: skip
    make_post(title="초안", slug="draft", status="draft", categories=("비밀",), tags=("초안",))
    make_post(title="예약", slug="later", status="scheduled", tags=("예약",),
              published_at=NOW + timedelta(hours=1))  # fmt: skip
    make_post(title="숨김", slug="unlisted", status="unlisted", categories=("숨김",))
    make_post(title="휴지통", slug="trashed", published_at=NOW - timedelta(hours=1))
    with app.app_context(), writing():
        post = db.session.execute(select(Post).where(Post.slug == "trashed")).scalar_one()
        post.deleted_at = NOW
    return app


def _xml(app: Flask, url: str) -> etree._Element:
    response = app.test_client().get(url)
    assert response.status_code == 200, url
    assert response.content_type == "application/xml; charset=utf-8"
    return etree.fromstring(response.data)


def _urls(root: etree._Element) -> dict[str, str | None]:
    return {
        url.findtext("s:loc", namespaces=NS): url.findtext("s:lastmod", namespaces=NS)
        for url in root.findall("s:url", NS)
    }


def test_the_sitemap_lists_every_public_page_with_absolute_urls(site: Flask) -> None:
    urls = _urls(_xml(site, "/sitemap.xml"))
    assert set(urls) == {
        f"{BASE}/",
        f"{BASE}/category/{quote('정치')}",
        f"{BASE}/category/{quote('경제')}",
        f"{BASE}/tag/{quote('대통령실')}",
        f"{BASE}/posts/{quote('정치-기사')}",
        f"{BASE}/posts/economy",
    }  # no draft, scheduled, unlisted or trashed post, nor a term only they use


def test_lastmod_is_when_the_page_last_changed_in_the_site_zone(site: Flask) -> None:
    urls = _urls(_xml(site, "/sitemap.xml"))
    with site.app_context():
        economy = db.session.execute(select(Post).where(Post.slug == "economy")).scalar_one()
        changed = max(economy.updated_at, economy.published_at)
    expected = changed.astimezone(datetime.now().astimezone().tzinfo).isoformat()
    assert datetime.fromisoformat(urls[f"{BASE}/posts/economy"]) == datetime.fromisoformat(expected)
    assert urls[f"{BASE}/posts/economy"].endswith("+09:00")
    # The home page changed with its newest post; a category with its own newest.
    assert urls[f"{BASE}/"] == max(value for value in urls.values() if value)
    assert urls[f"{BASE}/category/{quote('경제')}"] == urls[f"{BASE}/posts/economy"]


def test_past_the_limit_the_sitemap_is_an_index_of_numbered_parts(site: Flask) -> None:
    site.config["SITEMAP_MAX_URLS"] = 4
    index = _xml(site, "/sitemap.xml")
    assert etree.QName(index).localname == "sitemapindex"
    parts = [loc.text for loc in index.findall("s:sitemap/s:loc", NS)]
    assert parts == [f"{BASE}/sitemap-1.xml", f"{BASE}/sitemap-2.xml"]  # 6 addresses, 4 a part
    first = _urls(_xml(site, "/sitemap-1.xml"))
    second = _urls(_xml(site, "/sitemap-2.xml"))
    assert len(first) == 4 and len(second) == 2
    assert not set(first) & set(second)
    site.config["SITEMAP_MAX_URLS"] = 50_000
    cache_of(site).clear()  # configuration is read at start-up; the cache does not watch it
    assert {**first, **second} == _urls(_xml(site, "/sitemap.xml"))


def test_parts_exist_only_as_many_as_the_index_names(site: Flask) -> None:
    client = site.test_client()
    assert client.get("/sitemap-1.xml").status_code == 404  # no index: no parts
    site.config["SITEMAP_MAX_URLS"] = 4
    cache_of(site).clear()
    assert client.get("/sitemap-3.xml").status_code == 404
    assert client.get("/sitemap-0.xml").status_code == 404
    assert client.get("/sitemap-99999999999999999999.xml").status_code == 404


def test_the_news_sitemap_holds_the_last_two_days(site: Flask, make_post: MakePost) -> None:
    make_post(title="사흘 전 <기사> & 분석", slug="old-news",
              published_at=NOW - timedelta(days=2, minutes=1))  # fmt: skip
    make_post(title="방금 <속보> & 분석", slug="breaking", published_at=NOW - timedelta(minutes=5))
    root = _xml(site, "/sitemap-news.xml")
    urls = root.findall("s:url", NS)
    assert [url.findtext("s:loc", namespaces=NS) for url in urls] == [
        f"{BASE}/posts/breaking", f"{BASE}/posts/economy"
    ]  # fmt: skip
    news = urls[0].find("news:news", NS)
    assert news is not None
    assert news.findtext("news:publication/news:name", namespaces=NS) == "Test Blog"
    assert news.findtext("news:publication/news:language", namespaces=NS) == "en"
    assert news.findtext("news:title", namespaces=NS) == "방금 <속보> & 분석"
    assert news.findtext("news:publication_date", namespaces=NS) == "2024-07-22T11:55:00+09:00"


def test_robots_txt_points_at_the_sitemaps_and_keeps_crawlers_out_of_admin(site: Flask) -> None:
    response = site.test_client().get("/robots.txt")
    assert response.content_type == "text/plain; charset=utf-8"
    lines = response.text.splitlines()
    assert lines[0] == "User-agent: *"
    for private in ("/admin", "/login", "/account", "/reset", "/logout"):
        assert f"Disallow: {private}" in lines
    assert f"Sitemap: {BASE}/sitemap.xml" in lines
    assert f"Sitemap: {BASE}/sitemap-news.xml" in lines
    assert not any(line == "Disallow: /" for line in lines)


def test_without_a_base_url_addresses_come_from_the_checked_host(app: Flask) -> None:
    root = _xml(app, "/sitemap.xml")
    assert _urls(root) == {"http://localhost/": None}


def test_the_sitemap_goes_through_the_page_cache(site: Flask, make_post: MakePost) -> None:
    client = site.test_client()
    first = client.get("/sitemap.xml", headers={"Accept-Encoding": "br"})
    assert first.headers["Content-Encoding"] == "br"
    assert (
        client.get("/sitemap.xml", headers={"If-None-Match": first.headers["ETag"]}).status_code
        == 304
    )  # noqa: E501
    make_post(title="새 기사", slug="new-one", published_at=NOW - timedelta(minutes=1))
    assert f"{BASE}/posts/new-one" in _urls(_xml(site, "/sitemap.xml"))
