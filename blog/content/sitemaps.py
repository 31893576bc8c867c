"""Sitemaps (sitemaps.org 0.9) and the Google News sitemap, built with lxml, never by
pasting strings.

A sitemap lists every listed post, the home page and every category and tag page that
has a listed post, with when each last changed. Past `max_urls` (the protocol's limit is
50,000 per file) /sitemap.xml is an index of numbered parts: the fixed pages first, then
the posts by id, so adding a post changes only the last part.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import load_only

from ..extensions import db
from ..models import Category, Post, Tag, UTCDateTime, post_categories, post_tags
from .feeds import xml_text
from .posts import post_path

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
# Google News reads posts of the last two days, at most 1,000 of them.
NEWS_WINDOW = timedelta(days=2)
NEWS_MOST_POSTS = 1000


@dataclass(frozen=True)
class SitemapEntry:
    path: str
    lastmod: datetime | None


def _latest(published: datetime | None, updated: datetime | None) -> datetime | None:
    return max((moment for moment in (published, updated) if moment is not None), default=None)


def _term_entries(now: datetime) -> list[SitemapEntry]:
    """The home page, then each category and tag page with a listed post: three queries."""
    newest = db.session.execute(
        select(
            func.max(Post.published_at, type_=UTCDateTime()),
            func.max(Post.updated_at, type_=UTCDateTime()),
        ).where(Post.listed(now))
    ).one()
    entries = [SitemapEntry("/", _latest(*newest))]
    for model, link, prefix in (
        (Category, post_categories.c.category_id, "/category/"),
        (Tag, post_tags.c.tag_id, "/tag/"),
    ):
        post_id = post_categories.c.post_id if model is Category else post_tags.c.post_id
        rows = db.session.execute(
            select(
                model.slug,
                func.max(Post.published_at, type_=UTCDateTime()),
                func.max(Post.updated_at, type_=UTCDateTime()),
            )
            .join(link.table, link == model.id)
            .join(Post, Post.id == post_id)
            .where(Post.listed(now))
            .group_by(model.id, model.slug)
            .order_by(model.slug)
        )
        entries += [SitemapEntry(prefix + quote(slug), _latest(p, u)) for slug, p, u in rows]
    return entries


def sitemap_size(now: datetime) -> int:
    """How many addresses the sitemap lists."""
    posts = db.session.execute(select(func.count()).where(Post.listed(now))).scalar_one()
    return len(_term_entries(now)) + int(posts)


def sitemap_entries(now: datetime, start: int = 0, stop: int | None = None) -> list[SitemapEntry]:
    """The sitemap's addresses from `start` to `stop` (a part of it)."""
    fixed = _term_entries(now)
    entries = fixed[start:stop]
    offset = max(0, start - len(fixed))
    limit = None if stop is None else stop - max(start, len(fixed))
    if limit is not None and limit <= 0:
        return entries
    query = (
        select(Post.slug, Post.published_at, Post.updated_at)
        .where(Post.listed(now))
        .order_by(Post.id)
        .offset(offset)
        .limit(limit)
    )
    entries += [
        SitemapEntry(post_path(slug), _latest(published, updated))
        for slug, published, updated in db.session.execute(query)
    ]
    return entries


def _w3c(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


def _document(root: Any) -> bytes:
    from lxml import etree  # here: XML is written only for sitemaps

    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def urlset(
    entries: Sequence[SitemapEntry], absolute: Callable[[str], str], zone: ZoneInfo
) -> bytes:
    """A sitemap file of `entries`."""
    from lxml import etree  # here: XML is written only for sitemaps

    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS})
    for entry in entries:
        url = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        etree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = xml_text(absolute(entry.path))
        if entry.lastmod is not None:
            etree.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = _w3c(entry.lastmod, zone)
    return _document(root)


def sitemap_index(part_urls: Sequence[str]) -> bytes:
    """A sitemap index naming each part (absolute URLs)."""
    from lxml import etree  # here: XML is written only for sitemaps

    root = etree.Element(f"{{{SITEMAP_NS}}}sitemapindex", nsmap={None: SITEMAP_NS})
    for part_url in part_urls:
        sitemap = etree.SubElement(root, f"{{{SITEMAP_NS}}}sitemap")
        etree.SubElement(sitemap, f"{{{SITEMAP_NS}}}loc").text = xml_text(part_url)
    return _document(root)


def news_posts(now: datetime) -> list[Post]:
    """Listed posts published in the last two days, newest first."""
    query = (
        select(Post)
        .options(load_only(Post.slug, Post.title, Post.published_at))
        .where(Post.listed(now), Post.published_at >= now - NEWS_WINDOW)
        .order_by(Post.published_at.desc(), Post.id.desc())
        .limit(NEWS_MOST_POSTS)
    )
    return list(db.session.execute(query).scalars())


def news_sitemap(
    posts: Sequence[Post],
    publication: str,
    language: str,
    absolute: Callable[[str], str],
    zone: ZoneInfo,
) -> bytes:
    """A Google News sitemap of `posts`, published under `publication` in `language`."""
    from lxml import etree  # here: XML is written only for sitemaps

    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS, "news": NEWS_NS})
    for post in posts:
        assert post.published_at is not None
        url = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        etree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = xml_text(
            absolute(post_path(post.slug))
        )
        news = etree.SubElement(url, f"{{{NEWS_NS}}}news")
        source = etree.SubElement(news, f"{{{NEWS_NS}}}publication")
        etree.SubElement(source, f"{{{NEWS_NS}}}name").text = xml_text(publication)
        etree.SubElement(source, f"{{{NEWS_NS}}}language").text = language
        etree.SubElement(news, f"{{{NEWS_NS}}}publication_date").text = _w3c(
            post.published_at, zone
        )
        etree.SubElement(news, f"{{{NEWS_NS}}}title").text = xml_text(post.title)
    return _document(root)
