"""Posts: saving (render on save, revisions), their categories and tags, and the queries public
pages use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import or_, select
from sqlalchemy.orm import defer, load_only, selectinload

from .. import clock
from ..extensions import db
from ..models import Category, Media, Post, Revision, Tag, User
from . import taxonomy
from .markup import first_paragraph_text, render_body_within_budget
from .slugs import slugify, unique_slug

POST_URL_PREFIX = "/posts/"
# A stored file's URL, /media/<sha256>/<name>, wherever a body or feature image holds it.
_MEDIA_REFERENCE = re.compile(r"/media/([0-9a-f]{64})/")


def post_path(slug: str) -> str:
    """The path a post is served at (the public blueprint's article route)."""
    return POST_URL_PREFIX + quote(slug)


def slug_taken(
    slug: str,
    excluding_post_id: int | None = None,
    visible_to: User | None = None,
    now: datetime | None = None,
) -> bool:
    """Whether a post has `slug`; with `visible_to`, only among the posts that user may
    know of (their own and public ones)."""
    query = select(Post.id).where(Post.slug == slug)
    if excluding_post_id is not None:
        query = query.where(Post.id != excluding_post_id)
    if visible_to is not None:
        query = query.where(
            or_(Post.author_id == visible_to.id, Post.reachable(now or clock.now()))
        )
    return db.session.execute(query.limit(1)).first() is not None


def unique_post_slug(
    title_or_slug: str, excluding_post_id: int | None = None, visible_to: User | None = None
) -> str:
    """A free slug made from `title_or_slug` (free among what `visible_to` may know of)."""
    return unique_slug(
        slugify(title_or_slug), lambda s: slug_taken(s, excluding_post_id, visible_to)
    )


def set_categories(
    post: Post, names: list[str], editor: User | None = None, known: dict[str, Any] | None = None
) -> None:
    """Give `post` the categories of these names, created when missing (inside `writing()`).

    The editor's names were checked by validate(); an import's are taken as they come,
    cut to length (imports always may add categories). `known`: see resolve_names.
    """
    post.categories = taxonomy.resolve_names("category", _names(names, editor), editor, known)


def set_tags(
    post: Post, names: list[str], editor: User | None = None, known: dict[str, Any] | None = None
) -> None:
    """Give `post` the tags of these names, created when missing (inside `writing()`)."""
    post.tags = taxonomy.resolve_names("tag", _names(names, editor), editor, known)


def _names(names: list[str], editor: User | None) -> list[str]:
    return names if editor is not None else [taxonomy.import_name(name) for name in names]


@dataclass(frozen=True)
class RenderedPost:
    """What saving stores besides the source: computed before the write transaction."""

    body_html: str
    summary: str

    @classmethod
    def from_body(cls, body_html: str, excerpt: str = "", feature_text: str = "") -> RenderedPost:
        """The rendering of a body rendered and sanitised already (render_body_within_budget)."""
        return cls(body_html, excerpt or feature_text or first_paragraph_text(body_html))


def render_post(
    source: str, source_format: str, excerpt: str = "", feature_text: str = ""
) -> RenderedPost:
    """Render the body and summary now, on save, so serving a page never renders anything.

    Call it before `writing()`: it is the expensive part of a save. Raises RenderTooSlow
    when Markdown takes longer than its budget.
    """
    body_html = render_body_within_budget(source, source_format)
    return RenderedPost.from_body(body_html, excerpt, feature_text)


def save_post(
    post: Post,
    editor: User | None,
    rendered: RenderedPost,
    note: str = "",
    updated_at: datetime | None = None,
    fields: dict[str, Any] | None = None,
) -> Post:
    """Store the rendering, stamp and keep a revision of `post`, inside `writing()`."""
    post.body_html, post.summary = rendered.body_html, rendered.summary
    post.updated_at = updated_at or clock.now()
    post.media = _referenced_media(post.source, post.feature_image)
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


def _referenced_media(*texts: str) -> list[Media]:
    hashes = {match for text in texts for match in _MEDIA_REFERENCE.findall(text or "")}
    if not hashes:
        return []
    return list(db.session.execute(select(Media).where(Media.sha256.in_(hashes))).scalars())


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
    # Only titles and slugs are shown: the neighbours' bodies stay in the database.
    base = (
        select(Post)
        .where(Post.listed(now), Post.id != post.id)
        .options(load_only(Post.id, Post.title, Post.slug, Post.published_at))
    )
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
