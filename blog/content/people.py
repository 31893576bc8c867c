"""The people behind the posts as readers and the interface name them: bylines and roles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import pgettext
from sqlalchemy import inspect, select
from sqlalchemy.orm import load_only

from .. import changes
from ..extensions import db
from ..models import Post, Role, User
from .urls import image_url_problem

# What a byline shows, and all that lists load of each author.
BYLINE_COLUMNS = (User.id, User.username, User.display_name, User.bio, User.avatar)
MAX_BIO_LENGTH = 300


@dataclass(frozen=True)
class Byline:
    """An author as readers see them. `avatar_url` is a site path or an https: address
    ("" for none); feeds and JSON-LD make a path absolute with `public_url`."""

    name: str
    bio: str
    avatar_url: str


def byline(user: User | None) -> Byline | None:
    """The byline of `user`; None for a post without an author (its account was deleted)
    or one whose author has no display name: a login name is half of what signs in, so it
    is never printed on public pages."""
    if user is None or not user.display_name.strip():
        return None
    # Stored avatars were checked on save; an older or hand-edited row is dropped here.
    avatar = user.avatar if user.avatar and image_url_problem(user.avatar) is None else ""
    return Byline(name=user.display_name.strip(), bio=user.bio or "", avatar_url=avatar)


def load_authors(posts: Sequence[Post]) -> None:
    """Load the authors of `posts` in one query, only the byline's columns; `post.author`
    then comes from the session without another query."""
    ids = {post.author_id for post in posts if post.author_id is not None}
    if ids:
        db.session.execute(
            select(User).where(User.id.in_(ids)).options(load_only(*BYLINE_COLUMNS))
        ).scalars().all()


def several_authors() -> bool:
    """Whether the listed posts have more than one author (lists show bylines only then).

    The lowest and the highest author id of a listed post, each the first match along
    ix_posts_author_listing: two index probes however many posts there are (a DISTINCT over
    the posts read every row of a one-author blog, seconds at 100,000 posts). Kept per
    public change besides (`kept_per_change`).
    """

    def count(now: datetime) -> bool:
        query = select(Post.author_id).where(
            Post.listed(now, by_date=False), Post.author_id.is_not(None)
        )
        lowest = db.session.execute(query.order_by(Post.author_id.asc()).limit(1)).scalar()
        highest = db.session.execute(query.order_by(Post.author_id.desc()).limit(1)).scalar()
        return lowest is not None and lowest != highest

    return changes.kept_per_change("several_authors", count)


def role_label(role: str | Role) -> str:
    """The name of a role as the interface shows it (관리자, not `admin`)."""
    labels = {
        Role.CONTRIBUTOR: pgettext("role", "Contributor"),
        Role.AUTHOR: pgettext("role", "Author"),
        Role.EDITOR: pgettext("role", "Editor"),
        Role.ADMIN: pgettext("role", "Administrator"),
    }
    try:
        return labels[Role(role)]
    except ValueError:
        return str(role)  # a value from a newer version: shown as stored


def post_byline(post: Post) -> Byline | None:
    """The byline of one post (an article page), its author loaded with byline columns only
    (unless the post came with its author, as `article_page` loads it)."""
    if "author" in inspect(post).unloaded:
        load_authors([post])
    return byline(post.author)


def list_bylines(posts: Sequence[Post]) -> dict[int, Byline]:
    """Bylines of listed posts by post id; none when one person writes the whole site,
    where a name on every card says nothing."""
    if not several_authors():
        return {}
    load_authors(posts)
    return {post.id: line for post in posts if (line := byline(post.author)) is not None}
