"""Sitemaps and robots.txt: what search engines fetch to find every public page.

Anonymous GETs like every public page, so the page cache keeps them until the next public
change.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, abort, current_app, url_for

from .. import clock
from ..content.settings import site_settings, site_zone
from ..content.sitemaps import (
    news_posts,
    news_sitemap,
    sitemap_entries,
    sitemap_index,
    sitemap_size,
    urlset,
)
from ..security import PRIVATE_PREFIXES, public_url
from . import bp

XML = "application/xml; charset=utf-8"


def _absolute() -> Callable[[str], str]:
    """public_url for many paths at once: the base is looked up once, not per address
    (a third of a 50,000-address sitemap's time went there)."""
    base = public_url("")
    return lambda path: base + path


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """Every public address; past SITEMAP_MAX_URLS, an index of numbered parts."""
    now, limit = clock.now(), current_app.config["SITEMAP_MAX_URLS"]
    size = sitemap_size(now)
    if size > limit:
        parts = -(-size // limit)
        urls = [public_url(url_for("public.sitemap_part", number=n)) for n in range(1, parts + 1)]
        return Response(sitemap_index(urls), content_type=XML)
    return Response(urlset(sitemap_entries(now), _absolute(), site_zone()), content_type=XML)


@bp.get("/sitemap-<int:number>.xml")
def sitemap_part(number: int) -> Response:
    now, limit = clock.now(), current_app.config["SITEMAP_MAX_URLS"]
    start = (number - 1) * limit
    # Parts exist only while the sitemap needs an index, and only as many as it names.
    if number < 1 or start >= (size := sitemap_size(now)) or size <= limit:
        abort(404)
    entries = sitemap_entries(now, start, start + limit)
    return Response(urlset(entries, _absolute(), site_zone()), content_type=XML)


@bp.get("/sitemap-news.xml")
def news_sitemap_view() -> Response:
    """Google News: the last two days' posts (seen as of the last public change; a post
    that ages out stays until the next one, which Google ignores)."""
    settings = site_settings()
    body = news_sitemap(news_posts(clock.now()), settings["title"], settings["language"],
                        _absolute(), site_zone())  # fmt: skip
    return Response(body, content_type=XML)


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawlers keep out of the writing and sign-in areas and are shown the sitemaps."""
    lines = ["User-agent: *", *(f"Disallow: {prefix}" for prefix in (*PRIVATE_PREFIXES, "/logout"))]
    lines += ["", f"Sitemap: {public_url(url_for('public.sitemap'))}",
              f"Sitemap: {public_url(url_for('public.news_sitemap_view'))}"]  # fmt: skip
    return Response("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
