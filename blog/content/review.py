"""The desk's review queue: posts writers submitted, oldest first."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import load_only, selectinload

from ..extensions import db
from ..models import Post, PostStatus, User
from .permissions import can_review

_WAITING = (Post.status == PostStatus.PENDING.value, Post.deleted_at.is_(None))


def review_queue(reviewer: User, limit: int = 50) -> list[Post]:
    """Posts waiting for an editor, the longest-waiting first; empty for non-editors."""
    if not can_review(reviewer):
        return []
    return list(
        db.session.execute(
            select(Post)
            .where(*_WAITING)
            .options(
                load_only(Post.id, Post.title, Post.updated_at, Post.author_id),
                selectinload(Post.author),
            )
            .order_by(Post.updated_at.asc(), Post.id.asc())
            .limit(limit)
        ).scalars()
    )


def waiting_count(reviewer: User) -> int:
    """How many posts wait for review (the count beside the admin navigation)."""
    if not can_review(reviewer):
        return 0
    return db.session.execute(select(func.count()).select_from(Post).where(*_WAITING)).scalar_one()
