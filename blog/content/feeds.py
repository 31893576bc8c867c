"""Atom and RSS 2.0 feeds of the latest posts, built with feedgen (never hand-written XML).

Entries carry the whole post: its sanitised HTML with every link and image address made
absolute (a feed reader shows it away from the site), its byline, categories, tags and
times in the site's time zone. The domain knows no request: the caller passes how a path
becomes an absolute URL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import defer, joinedload, selectinload

from ..extensions import db
from ..models import Category, Post, Tag, post_categories, post_tags
from .people import BYLINE_COLUMNS, byline
from .posts import post_path
from .sanitize import with_absolute_urls

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator

# Enough for a reader that checks a few times a day; the page cache keeps the result.
FEED_POSTS = 20
FeedFormat = Literal["atom", "rss"]
CONTENT_TYPES: dict[FeedFormat, str] = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
}
# XML 1.0 allows no C0 control but tab and line breaks (lxml refuses them outright); stored
# text is checked on save, but rows from older versions or hand edits may hold one.
_NOT_IN_XML = dict.fromkeys([*(c for c in range(0x20) if chr(c) not in "\t\n\r"), 0xFFFE, 0xFFFF])


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry."""
    return text.translate(_NOT_IN_XML)


def latest_posts(
    now: datetime,
    category: Category | None = None,
    tag: Tag | None = None,
    limit: int = FEED_POSTS,
) -> list[Post]:
    """The newest listed posts, optionally of one category or tag, with their bodies,
    bylines, categories and tags: three queries however many."""
    query = select(Post).where(Post.listed(now))
    if category is not None:
        query = query.where(
            exists().where(
                post_categories.c.post_id == Post.id, post_categories.c.category_id == category.id
            )
        )
    if tag is not None:
        query = query.where(
            exists().where(post_tags.c.post_id == Post.id, post_tags.c.tag_id == tag.id)
        )
    query = query.options(
        defer(Post.source),
        joinedload(Post.author).load_only(*BYLINE_COLUMNS),
        selectinload(Post.categories),
        selectinload(Post.tags),
    )
    ordered = query.order_by(Post.published_at.desc(), Post.id.desc()).limit(limit)
    return list(db.session.execute(ordered).unique().scalars())


def last_change(post: Post) -> datetime:
    """When a post last changed as readers see it: a post scheduled after its last save
    changed when it went out."""
    assert post.published_at is not None  # listed posts have one
    return max(post.published_at, post.updated_at)


@dataclass(frozen=True)
class FeedSource:
    """What one feed is of: its title and description, the page it mirrors and its own
    address (paths; made absolute by the caller's `absolute`)."""

    title: str
    description: str
    page_path: str
    feed_path: str


def build_feed(
    kind: FeedFormat,
    source: FeedSource,
    posts: Sequence[Post],
    *,
    site_title: str,
    language: str,
    zone: ZoneInfo,
    now: datetime,
    absolute: Callable[[str], str],
) -> bytes:
    """The feed document, UTF-8 XML."""
    from feedgen.feed import FeedGenerator  # here: only feeds need it (and lxml, 11 MB)

    feed = FeedGenerator()
    feed.load_extension("dc")  # RSS has no author without an e-mail address: dc:creator
    page_url = absolute(source.page_path)
    feed.id(page_url)
    feed.title(xml_text(source.title))
    # RSS requires a description; Atom's subtitle is optional but harmless.
    feed.subtitle(xml_text(source.description or source.title))
    feed.link(href=absolute(source.feed_path), rel="self", type=CONTENT_TYPES[kind].split(";")[0])
    # Last: RSS's one <link> is the last one given, and should be the page, not the feed.
    feed.link(href=page_url, rel="alternate", type="text/html")
    feed.language(language)
    feed.generator("blog", uri=absolute("/"))
    # Atom requires an author for the feed unless every entry has one; the blog stands in
    # for posts without a byline.
    feed.author(name=xml_text(site_title))
    feed.updated(
        max((last_change(post) for post in posts), default=now)
        .astimezone(zone)
        .replace(microsecond=0)
    )
    # feedgen puts the entry added last first; add the oldest first so the newest leads.
    for post in reversed(posts):
        _add_entry(feed, post, zone, absolute)
    if kind == "atom":
        return bytes(feed.atom_str(pretty=False))
    return bytes(feed.rss_str(pretty=False))


def _add_entry(
    feed: FeedGenerator, post: Post, zone: ZoneInfo, absolute: Callable[[str], str]
) -> None:
    assert post.published_at is not None
    url = absolute(post_path(post.slug))
    entry = feed.add_entry()
    entry.id(url)
    entry.guid(url, permalink=True)
    entry.title(xml_text(post.title))
    entry.link(href=url, rel="alternate", type="text/html")
    entry.published(post.published_at.astimezone(zone))
    entry.updated(last_change(post).astimezone(zone))
    line = byline(post.author)
    if line is not None:
        entry.author(name=xml_text(line.name))
        entry.dc.dc_creator(xml_text(line.name))
    for category in post.categories:
        entry.category(term=xml_text(category.name), scheme=absolute("/category/"),
                       label=xml_text(category.name))  # fmt: skip
    for tag in post.tags:
        entry.category(term=xml_text(tag.name), scheme=absolute("/tag/"),
                       label=xml_text(tag.name))  # fmt: skip
    if post.summary:
        entry.summary(xml_text(post.summary))
    # Links inside the post resolve against the post's own address (#footnotes too).
    entry.content(xml_text(with_absolute_urls(post.body_html, url)), type="html")
