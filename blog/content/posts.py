"""Posts: saving (render on save, revisions), taxonomy and the queries public pages use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import defer, selectinload

from .. import clock
from ..extensions import db
from ..models import Category, Post, Revision, Tag, User
from .markup import first_paragraph_text, render_body
from .slugs import slugify, unique_slug

POST_URL_PREFIX = "/posts/"
TaxonomyT = TypeVar("TaxonomyT", Category, Tag)


def post_path(slug: str) -> str:
    """The path a post is served at (the public blueprint's article route)."""
    return POST_URL_PREFIX + quote(slug)


def slug_taken(slug: str, excluding_post_id: int | None = None) -> bool:
    query = select(Post.id).where(Post.slug == slug)
    if excluding_post_id is not None:
        query = query.where(Post.id != excluding_post_id)
    return db.session.execute(query.limit(1)).first() is not None


def unique_post_slug(title_or_slug: str, excluding_post_id: int | None = None) -> str:
    return unique_slug(slugify(title_or_slug), lambda s: slug_taken(s, excluding_post_id))


def _get_or_create(model: type[TaxonomyT], names: list[str]) -> list[TaxonomyT]:
    found: list[TaxonomyT] = []
    for name in names:
        name = name.strip()
        slug = slugify(name)
        if not slug or any(item.slug == slug for item in found):
            continue
        item = db.session.execute(select(model).where(model.slug == slug)).scalar_one_or_none()
        if item is None:
            item = model(name=name, slug=slug)
            db.session.add(item)
        found.append(item)
    return found


def set_categories(post: Post, names: list[str]) -> None:
    post.categories = _get_or_create(Category, names)


def set_tags(post: Post, names: list[str]) -> None:
    post.tags = _get_or_create(Tag, names)


def render_post(post: Post) -> None:
    """Render the body and summary now, on save, so serving a page never renders anything."""
    post.body_html = render_body(post.source, post.source_format)
    post.summary = post.excerpt or post.feature_text or first_paragraph_text(post.body_html)


def save_post(
    post: Post,
    editor: User | None,
    note: str = "",
    updated_at: datetime | None = None,
    fields: dict[str, Any] | None = None,
) -> Post:
    """Render, stamp and keep a revision of `post`; the caller commits."""
    render_post(post)
    post.updated_at = updated_at or clock.now()
    if post.id is None:
        db.session.add(post)
    db.session.flush()  # assigns the id and bumps `version`
    db.session.add(
        Revision(
            post_id=post.id,
            post_version=post.version,
            title=post.title,
            source=post.source,
            source_format=post.source_format,
            author_id=editor.id if editor else None,
            note=note,
            fields=fields or {},
        )
    )
    return post


@dataclass
class PostPage:
    posts: list[Post]
    page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def listed_posts(
    page: int,
    per_page: int,
    now: datetime,
    category: Category | None = None,
    tag: Tag | None = None,
) -> PostPage:
    """One page of public posts, newest first, optionally of one category or tag."""
    query = (
        select(Post)
        .where(Post.listed(now))
        # Lists show neither source nor body: do not load them.
        .options(selectinload(Post.categories), defer(Post.source), defer(Post.body_html))
        .order_by(Post.published_at.desc(), Post.id.desc())
    )
    if category is not None:
        query = query.where(Post.categories.contains(category))
    if tag is not None:
        query = query.where(Post.tags.contains(tag))
    # One row more than a page tells whether there is a next page without a COUNT.
    rows = db.session.execute(query.offset((page - 1) * per_page).limit(per_page + 1)).scalars()
    posts = list(rows)
    return PostPage(posts=posts[:per_page], page=page, has_next=len(posts) > per_page)


def reachable_post(slug: str, now: datetime) -> Post | None:
    """The post at `slug` if a reader may see it (listed or unlisted)."""
    return db.session.execute(
        select(Post)
        .where(Post.slug == slug, Post.reachable(now))
        .options(selectinload(Post.categories), selectinload(Post.tags))
    ).scalar_one_or_none()


def neighbours(post: Post, now: datetime) -> tuple[Post | None, Post | None]:
    """(older, newer) listed posts around `post`, for previous/next links."""
    if post.published_at is None:
        return None, None
    base = select(Post).where(Post.listed(now), Post.id != post.id)
    older = db.session.execute(
        base.where(
            (Post.published_at < post.published_at)
            | ((Post.published_at == post.published_at) & (Post.id < post.id))
        )
        .order_by(Post.published_at.desc(), Post.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    newer = db.session.execute(
        base.where(
            (Post.published_at > post.published_at)
            | ((Post.published_at == post.published_at) & (Post.id > post.id))
        )
        .order_by(Post.published_at.asc(), Post.id.asc())
        .limit(1)
    ).scalar_one_or_none()
    return older, newer
