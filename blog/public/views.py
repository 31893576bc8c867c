from __future__ import annotations

from datetime import datetime

from flask import Response, abort, current_app, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import undefer

from .. import changes, clock
from ..content.link_previews import article_preview
from ..content.media import MEDIA_CSP
from ..content.people import list_bylines, post_byline
from ..content.posts import (
    ArchiveMonth,
    ListCursor,
    Period,
    PostPage,
    archive_months,
    article_page,
    listed_posts,
    names_a_listed_post,
)
from ..content.search import MAX_PAGE as MAX_SEARCH_PAGE
from ..content.search import search_posts
from ..content.settings import site_settings, site_zone
from ..content.taxonomy import public_terms_with_counts, redirected_term
from ..extensions import db
from ..htmx import render
from ..models import Category, Media, Tag
from ..paging import list_position
from ..security import public_url
from ..static_mirror import NOT_MIRRORED
from ..templating import month_name
from . import bp


def _only_the_sample(page: PostPage) -> bool:
    """A new blog: no post yet, or only the sample `blog init` imported."""
    if page.has_prev or page.has_next or len(page.posts) > 1:
        return False
    return not page.posts or bool(
        page.posts[0].import_source and site_settings().get("sample_imported")
    )


def _post_list(template_context: dict[str, object], **filters: object) -> Response:
    now = clock.now()
    position = list_position()
    page = listed_posts(site_settings()["posts_per_page"], now, **filters, **position)
    # A category or tag page exists only while a public post uses it: one used by drafts
    # alone must not tell readers what is being written. Past the end is not a page.
    if not page.posts and ("page" not in position or position["page"] > 1 or filters):
        abort(404)
    if "after" in position and not page.has_prev:
        # Back at the top: the first page has one address, the list's own.
        return redirect(url_for(str(request.endpoint), **(request.view_args or {})))
    if current_app.config.get("BLOG_STATIC_MIRROR") and not _a_place_the_list_links_to(now):
        # Made-up places (?page=007, a cursor naming no post) are answered but not written
        # as files: the mirror holds only as many list pages as the lists have.
        request.environ[NOT_MIRRORED] = True
    # The template shows "how to start" to signed-in admins only (current_user), never
    # in a response an anonymous reader gets.
    new_blog = not filters and _only_the_sample(page)
    # The page's own address as its links write it: other query parameters (utm_*) dropped.
    place = {name: str(value) for name, value in position.items() if (name, value) != ("page", 1)}
    canonical = public_url(url_for(str(request.endpoint), **(request.view_args or {}), **place))
    # "More posts" asks for the next page's items and button only.
    return render("public/index.html", block="more_posts", page=page, new_blog=new_blog,
                  bylines=list_bylines(page.posts), canonical=canonical,
                  **template_context)  # fmt: skip


def _a_place_the_list_links_to(now: datetime) -> bool:
    """Whether the query string is a place the list's own links use, written as they write it."""
    raw = {name: request.args[name] for name in ("page", "before", "after") if name in request.args}
    if not raw:
        return True
    (name, value), *_ = raw.items()
    if name == "page":
        return value == str(int(value))
    cursor = ListCursor.parse(value)
    return cursor is not None and str(cursor) == value and names_a_listed_post(cursor, now)


@bp.get("/")
def index() -> Response:
    return _post_list({"heading": None, "list_url": "public.index", "list_args": {}})


def _moved(kind: str, slug: str) -> Response:
    """A former slug (renamed, merged away) answers 301 with the current one, as a post's does."""
    term = redirected_term(kind, slug, clock.now())
    if term is None:
        abort(404)
    location = url_for(f"public.{kind}", slug=term.slug)
    if request.query_string:  # ?page=2 stays page 2
        location += "?" + request.query_string.decode("latin-1")
    return redirect(location, code=301)


@bp.get("/category/<slug>")
def category(slug: str) -> Response:
    item = db.session.execute(select(Category).where(Category.slug == slug)).scalar_one_or_none()
    if item is None:
        return _moved("category", slug)
    return _post_list(
        {"heading": item.name, "kind": "category", "list_url": "public.category",
         "list_args": {"slug": slug}},
        category=item,
    )  # fmt: skip


@bp.get("/tag/<slug>")
def tag(slug: str) -> Response:
    item = db.session.execute(select(Tag).where(Tag.slug == slug)).scalar_one_or_none()
    if item is None:
        return _moved("tag", slug)
    return _post_list(
        {
            "heading": item.name,
            "kind": "tag",
            "list_url": "public.tag",
            "list_args": {"slug": slug},
        },
        tag=item,
    )


@bp.get("/archive")
def archive() -> Response:
    months = changes.kept_per_change("archive_months", lambda now: archive_months(now, site_zone()))
    years: dict[int, list[ArchiveMonth]] = {}
    for month in months:
        years.setdefault(month.year, []).append(month)
    return render("public/archive.html", years=years)


# Four-digit years and two-digit months only: /archive/99999/13 and /archive/abc are 404.
@bp.get("/archive/<int(fixed_digits=4):year>")
def archive_year(year: int) -> Response:
    period = Period.of_year(year, site_zone())
    if period is None:
        abort(404)
    return _post_list({"heading": str(year), "kind": "archive", "list_url": "public.archive_year",
                       "list_args": {"year": year}}, period=period)  # fmt: skip


@bp.get("/archive/<int(fixed_digits=4):year>/<int(fixed_digits=2):month>")
def archive_month(year: int, month: int) -> Response:
    period = Period.of_month(year, month, site_zone()) if 1 <= month <= 12 else None
    if period is None:
        abort(404)
    return _post_list({"heading": month_name(year, month), "kind": "archive",
                       "list_url": "public.archive_month",
                       "list_args": {"year": year, "month": month}}, period=period)  # fmt: skip


@bp.get("/categories")
def categories() -> Response:
    terms = public_terms_with_counts("category", clock.now())
    return render("public/terms.html", kind="category", terms=terms)


@bp.get("/tags")
def tags() -> Response:
    return render(
        "public/terms.html", kind="tag", terms=public_terms_with_counts("tag", clock.now())
    )


@bp.get("/posts/<slug>")
def article(slug: str) -> Response:
    page = article_page(slug, clock.now())
    if page is None:
        abort(404)
    author = post_byline(page.post)
    preview = article_preview(page.post, author, site_settings(), site_zone(), public_url)
    return render("public/article.html", post=page.post, older=page.older, newer=page.newer,
                  related=page.related, author=author, preview=preview)  # fmt: skip


@bp.get("/search")
def search() -> Response:
    """Posts with every word of `?q=`; as the reader types, htmx asks for the results only."""
    raw_page = request.args.get("page", "1")
    # Typed by anyone: what is not a page number is the first page, never an error.
    page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() and len(raw_page) < 7 else 1
    found = search_posts(request.args.get("q", ""), max(page, 1),
                         site_settings()["posts_per_page"], clock.now())  # fmt: skip
    return render("public/search.html", block="results", search=found,
                  max_page=MAX_SEARCH_PAGE, search_text=found.query.text)  # fmt: skip


@bp.get("/media/<sha256>/<path:filename>")
def media(sha256: str, filename: str) -> Response:
    item = db.session.execute(
        select(Media).where(Media.sha256 == sha256).options(undefer(Media.data))
    ).scalar_one_or_none()
    if item is None:
        abort(404)
    response = Response(item.data, mimetype=item.content_type)
    # The hash is in the URL, so the content behind it never changes.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Content-Security-Policy"] = MEDIA_CSP
    response.set_etag(item.sha256)
    return response.make_conditional(request)
