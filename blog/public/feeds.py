"""Atom and RSS feeds of the whole blog and of each category and tag.

Anonymous GETs like every public page, so the page cache keeps them (compressed, with an
ETag) until the next public change.
"""

from __future__ import annotations

from flask import Response, abort, redirect, url_for
from sqlalchemy import select

from .. import clock
from ..content.feeds import CONTENT_TYPES, FeedFormat, FeedSource, build_feed, latest_posts
from ..content.settings import site_settings, site_zone
from ..content.taxonomy import redirected_term
from ..extensions import db
from ..models import Category, Post, Tag
from ..security import public_url
from . import bp


def _feed(kind: FeedFormat, source: FeedSource, posts: list[Post]) -> Response:
    settings = site_settings()
    body = build_feed(kind, source, posts, site_title=settings["title"],
                      language=settings["language"], zone=site_zone(), now=clock.now(),
                      absolute=public_url)  # fmt: skip
    return Response(body, content_type=CONTENT_TYPES[kind])


@bp.get("/feed.<any(atom, rss):feed_format>")
def feed(feed_format: FeedFormat) -> Response:
    settings = site_settings()
    source = FeedSource(settings["title"], settings["description"], url_for("public.index"),
                        url_for("public.feed", feed_format=feed_format))  # fmt: skip
    return _feed(feed_format, source, latest_posts(clock.now()))


@bp.get("/feed.xml")
def feed_xml() -> Response:
    """Jekyll's feed address (jekyll-feed): its readers keep their subscription."""
    settings = site_settings()
    source = FeedSource(settings["title"], settings["description"], url_for("public.index"),
                        url_for("public.feed_xml"))  # fmt: skip
    return _feed("atom", source, latest_posts(clock.now()))


def _term_feed(kind: FeedFormat, model: type[Category] | type[Tag], slug: str) -> Response:
    name = "category" if model is Category else "tag"
    item = db.session.execute(select(model).where(model.slug == slug)).scalar_one_or_none()
    if item is None:  # a former slug (renamed, merged away) answers 301, as its page does
        term = redirected_term(name, slug, clock.now())
        if term is None:
            abort(404)
        return redirect(url_for(f"public.{name}_feed", slug=term.slug, feed_format=kind), code=301)
    filters = {"category": item} if model is Category else {"tag": item}
    posts = latest_posts(clock.now(), **filters)  # type: ignore[arg-type]
    if not posts:
        abort(404)  # no public post uses it: its page does not exist either
    settings = site_settings()
    source = FeedSource(f"{item.name} · {settings['title']}", settings["description"],
                        url_for(f"public.{name}", slug=slug),
                        url_for(f"public.{name}_feed", slug=slug, feed_format=kind))  # fmt: skip
    return _feed(kind, source, posts)


@bp.get("/category/<slug>/feed.<any(atom, rss):feed_format>")
def category_feed(slug: str, feed_format: FeedFormat) -> Response:
    return _term_feed(feed_format, Category, slug)


@bp.get("/tag/<slug>/feed.<any(atom, rss):feed_format>")
def tag_feed(slug: str, feed_format: FeedFormat) -> Response:
    return _term_feed(feed_format, Tag, slug)
