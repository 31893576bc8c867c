"""Editing posts: validation, conflict-safe saving, status changes, revisions and the trash."""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import audit, clock
from ..auth.permissions import can_delete, can_edit, can_publish
from ..extensions import db
from ..models import Post, PostStatus, Revision, SourceFormat, User
from .markup import plain_text
from .posts import post_path, save_post, set_categories, set_tags, slug_taken
from .redirects import add_redirect
from .slugs import slugify


class EditConflict(Exception):
    """The post changed since the editor loaded it; nothing was overwritten."""

    def __init__(self, post: Post) -> None:
        super().__init__(f"post {post.id} is at version {post.version}")
        self.post = post


class NotAllowed(Exception):
    """The user's role does not allow this change."""


@dataclass
class PostFields:
    """Everything the editing form edits, as plain values."""

    title: str = ""
    slug: str = ""
    format: str = SourceFormat.MARKDOWN.value
    body: str = ""
    excerpt: str = ""
    feature_text: str = ""
    feature_image: str = ""
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    status: str = PostStatus.DRAFT.value
    published_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["published_at"] = self.published_at.isoformat() if self.published_at else None
        return data


def fields_of(post: Post) -> PostFields:
    return PostFields(
        title=post.title,
        slug=post.slug,
        format=post.source_format,
        body=post.source,
        excerpt=post.excerpt,
        feature_text=post.feature_text,
        feature_image=post.feature_image,
        categories=[c.name for c in post.categories],
        tags=[t.name for t in post.tags],
        status=post.status,
        published_at=post.published_at,
    )


def split_names(text: str) -> list[str]:
    """'News, 정치 ,  ' -> ['News', '정치']"""
    return [name.strip() for name in text.replace("，", ",").split(",") if name.strip()]


def validate(fields: PostFields, post: Post | None, editor: User) -> dict[str, str]:
    """Field name -> what is wrong with it; empty when the fields can be saved."""
    errors: dict[str, str] = {}
    if not fields.title.strip():
        errors["title"] = _("A title is needed.")
    elif len(fields.title) > 500:
        errors["title"] = _("Titles can be at most 500 characters.")
    slug = slugify(fields.slug or fields.title)
    if fields.slug and not slug:
        errors["slug"] = _("The address needs letters or digits.")
    elif slug and slug_taken(slug, post.id if post else None):
        errors["slug"] = _("Another post already uses the address “%(slug)s”.", slug=slug)
    if fields.format not in {f.value for f in SourceFormat}:
        errors["format"] = _("Choose Markdown or HTML.")
    now = clock.now()
    if fields.status not in {s.value for s in PostStatus}:
        errors["status"] = _("Choose a status.")
    elif fields.status != PostStatus.DRAFT and not can_publish(editor, post or _new_post(editor)):
        errors["status"] = _("Your role can save drafts only; an editor publishes them.")
    elif fields.status == PostStatus.SCHEDULED:
        if fields.published_at is None or fields.published_at <= now:
            errors["published_at"] = _("A scheduled post needs a publish time in the future.")
    elif (
        fields.status == PostStatus.PUBLISHED and fields.published_at and fields.published_at > now
    ):
        errors["published_at"] = _("This time is in the future: choose Scheduled to publish then.")
    return errors


def _new_post(editor: User) -> Post:
    """A stand-in for a post not yet saved, owned by `editor`, for permission checks."""
    return Post(author_id=editor.id, status=PostStatus.DRAFT.value)


def _transition_action(old: str | None, new: str) -> str | None:
    public = {PostStatus.PUBLISHED.value, PostStatus.SCHEDULED.value, PostStatus.UNLISTED.value}
    if new in public and old not in public:
        return "post.schedule" if new == PostStatus.SCHEDULED else "post.publish"
    if old in public and new not in public:
        return "post.unpublish"
    return None


def save_fields(
    post: Post | None, fields: PostFields, editor: User, base_version: int | None
) -> Post:
    """Create or update a post from validated fields; never overwrites a newer version.

    Raises EditConflict when `base_version` is not the post's current version, and
    NotAllowed when the editor's role forbids the change. Commits.
    """
    if post is not None:
        if not can_edit(editor, post):
            raise NotAllowed("edit")
        if base_version != post.version:
            raise EditConflict(post)
    if fields.status != PostStatus.DRAFT and not can_publish(editor, post or _new_post(editor)):
        raise NotAllowed("publish")
    is_new = post is None
    post = post or Post(author_id=editor.id)
    old_status = None if is_new else post.status
    old_path = None if is_new else post_path(post.slug)
    was_public = not is_new and post.is_public(clock.now())

    # One UPDATE per save, so each save bumps the version exactly once.
    with db.session.no_autoflush:
        post.title = fields.title.strip()
        post.slug = slugify(fields.slug or fields.title)
        post.source_format = fields.format
        post.source = fields.body
        post.excerpt = plain_text(fields.excerpt)
        post.feature_text = plain_text(fields.feature_text)
        post.feature_image = fields.feature_image.strip()
        post.status = fields.status
        post.published_at = fields.published_at
        if post.status in (PostStatus.PUBLISHED, PostStatus.UNLISTED) and post.published_at is None:
            post.published_at = clock.now()
        if is_new:
            db.session.add(post)
        set_categories(post, fields.categories)
        set_tags(post, fields.tags)
    try:
        snapshot = fields_of(post).to_json()
        save_post(
            post,
            editor,
            note="created" if is_new else "",
            fields={k: v for k, v in snapshot.items() if k not in {"title", "body", "format"}},
        )
        if was_public and old_path != post_path(post.slug):
            # Readers and search engines keep finding the post at its old address.
            add_redirect(post, old_path or "")
        action = _transition_action(old_status, post.status)
        if action:
            audit.record(editor, action, post.title, post_id=post.id, status=post.status)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        current = db.session.get(Post, post.id)
        assert current is not None
        raise EditConflict(current) from None
    return post


def revisions_of(post: Post) -> list[Revision]:
    return list(
        db.session.execute(
            select(Revision).where(Revision.post_id == post.id).order_by(Revision.id.desc())
        ).scalars()
    )


def latest_revision(post: Post) -> Revision | None:
    return db.session.execute(
        select(Revision).where(Revision.post_id == post.id).order_by(Revision.id.desc()).limit(1)
    ).scalar_one_or_none()


def restore_revision(post: Post, revision: Revision, editor: User) -> Post:
    """Bring back an old revision as a new one (history is never rewritten)."""
    if not can_edit(editor, post):
        raise NotAllowed("edit")
    fields = fields_of(post)
    fields.title, fields.body, fields.format = (
        revision.title,
        revision.source,
        revision.source_format,
    )
    for key in ("excerpt", "feature_text", "feature_image", "categories", "tags"):
        if key in revision.fields:
            setattr(fields, key, revision.fields[key])
    saved = save_fields(post, fields, editor, post.version)
    latest = latest_revision(saved)
    assert latest is not None
    latest.note = f"restored revision {revision.post_version}"
    db.session.commit()
    return saved


@dataclass
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str


def line_diff(old: str, new: str) -> list[DiffLine]:
    """A line-by-line diff of two texts, for conflicts and revision pages."""
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            lines.extend(DiffLine("same", text) for text in matcher.a[a1:a2])
            continue
        lines.extend(DiffLine("removed", text) for text in matcher.a[a1:a2])
        lines.extend(DiffLine("added", text) for text in matcher.b[b1:b2])
    return lines


def trash_post(post: Post, editor: User) -> None:
    if not can_delete(editor, post):
        raise NotAllowed("delete")
    post.deleted_at = clock.now()
    audit.record(editor, "post.delete", post.title, post_id=post.id)
    db.session.commit()


def restore_post(post: Post, editor: User) -> None:
    post.deleted_at = None
    audit.record(editor, "post.restore", post.title, post_id=post.id)
    db.session.commit()


def empty_trash(editor: User) -> int:
    trashed = db.session.execute(select(Post).where(Post.deleted_at.is_not(None))).scalars().all()
    for post in trashed:
        db.session.delete(post)
    audit.record(editor, "trash.empty", f"{len(trashed)} posts", titles=[p.title for p in trashed])
    db.session.commit()
    return len(trashed)
