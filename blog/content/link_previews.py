"""What an article tells search engines and link previews (KakaoTalk, Slack, X): Open Graph,
the Twitter card and schema.org JSON-LD, every address absolute.

The domain knows no request: the caller passes how a path becomes an absolute URL.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy import select

from ..extensions import db
from ..models import Media, Post
from .feeds import last_change
from .media import MEDIA_URL_PREFIX
from .people import Byline
from .posts import post_path
from .settings import ARTICLE_SCHEMAS
from .urls import image_url_problem

# Open Graph names a locale by language and territory; the site's languages map to these.
OG_LOCALES = {"ko": "ko_KR", "en": "en_US"}


def og_locale(language: str) -> str:
    return OG_LOCALES.get(language, language.replace("-", "_"))


def post_image(post: Post) -> str:
    """The image a preview shows: the feature image, else the body's first image; a site
    path or an https: address ("" for none)."""
    if post.feature_image and image_url_problem(post.feature_image) is None:
        return post.feature_image
    return first_image(post.body_html)


def first_image(body_html: str) -> str:
    """The src of the first <img> of sanitised HTML, whose attributes are always written
    name="value" (ammonia's serialiser); found by plain search, in linear time."""
    start = body_html.find("<img ")
    while start != -1:
        end = body_html.find(">", start)
        if end == -1:
            return ""
        tag = body_html[start:end]
        at = tag.find(' src="')
        if at != -1:
            value = html.unescape(tag[at + 6 : tag.find('"', at + 6)])
            if value and image_url_problem(value) is None:
                return value
        start = body_html.find("<img ", end)
    return ""


def image_size(url: str) -> tuple[int, int] | None:
    """Width and height of an image in the media store, None for any other address."""
    if not url.startswith(MEDIA_URL_PREFIX):
        return None
    sha256 = url[len(MEDIA_URL_PREFIX) :].split("/", 1)[0]
    return _stored_image_size(sha256) if len(sha256) == 64 else None


# Sizes of stored images by hash, kept for the process's life: a stored file is named by its
# content, so its size never changes. Bounded; a full table starts again.
_SIZES: dict[str, tuple[int, int] | None] = {}
_MOST_SIZES = 4096


def _stored_image_size(sha256: str) -> tuple[int, int] | None:
    """The width and height recorded when the file was stored (upload, import, or the
    migration that measured the files already there); None when unknown (SVG, unreadable)."""
    if sha256 in _SIZES:
        return _SIZES[sha256]
    row = db.session.execute(
        select(Media.width, Media.height).where(Media.sha256 == sha256)
    ).first()
    if row is None:
        return None  # not stored (yet): asked again next time
    size = (int(row.width), int(row.height)) if row.width and row.height else None
    if len(_SIZES) >= _MOST_SIZES:
        _SIZES.clear()
    _SIZES[sha256] = size
    return size


@dataclass(frozen=True)
class ArticlePreview:
    """The head of an article page, every value ready to print."""

    url: str
    title: str
    description: str
    site_name: str
    locale: str
    published: str
    modified: str
    section: str
    tags: list[str]
    image: str = ""
    image_width: int | None = None
    image_height: int | None = None
    json_ld: dict[str, Any] = field(default_factory=dict)

    @property
    def twitter_card(self) -> str:
        return "summary_large_image" if self.image else "summary"


def article_preview(
    post: Post,
    author: Byline | None,
    settings: dict[str, Any],
    zone: ZoneInfo,
    absolute: Callable[[str], str],
) -> ArticlePreview:
    """Open Graph, Twitter and JSON-LD values of a post (its categories and tags loaded)."""
    assert post.published_at is not None  # a reachable post has been published
    url = absolute(post_path(post.slug))
    image = post_image(post)
    size = image_size(image) if image else None
    image_url = absolute(image) if image.startswith("/") else image
    published = _iso(post.published_at, zone)
    modified = _iso(last_change(post), zone)
    site_name = settings["title"]
    publisher = {"@type": "Organization", "name": site_name, "url": absolute("/")}
    schema = settings.get("article_schema")
    json_ld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": schema if schema in ARTICLE_SCHEMAS else ARTICLE_SCHEMAS[0],
        "headline": post.title,
        "description": post.summary,
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "datePublished": published,
        "dateModified": modified,
        # A post without a byline is the newsroom's own.
        "author": [{"@type": "Person", "name": author.name} if author else publisher],
        "publisher": publisher,
        "inLanguage": settings["language"],
    }
    if image_url:
        json_ld["image"] = [image_url]
    if post.categories:
        json_ld["articleSection"] = post.categories[0].name
    if post.tags:
        json_ld["keywords"] = [tag.name for tag in post.tags]
    return ArticlePreview(
        url=url,
        title=post.title,
        description=post.summary,
        site_name=site_name,
        locale=og_locale(settings["language"]),
        published=published,
        modified=modified,
        section=post.categories[0].name if post.categories else "",
        tags=[tag.name for tag in post.tags],
        image=image_url,
        image_width=size[0] if size else None,
        image_height=size[1] if size else None,
        json_ld=json_ld,
    )


def _iso(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


def json_script(data: dict[str, Any]) -> Markup:
    """`data` as JSON fit to sit inside <script type="application/ld+json">: no `<`, `>` or
    `&` in it, so no `</script>` or `<!--` in a title can end or bend the element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    # U+2028/2029 are line ends to old JavaScript parsers; escaped, they are plain JSON.
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
