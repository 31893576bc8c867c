"""Editing posts: validation, conflict-safe saving, status changes, revisions and the trash."""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import audit, clock
from ..database import writing
from ..extensions import db
from ..models import Post, PostStatus, Revision, SourceFormat, User
from . import search, taxonomy
from .markup import plain_text
from .permissions import (
    can_delete,
    can_edit,
    can_restore,
    can_review,
    sees_everyones_work,
    statuses_for,
)
from .posts import (
    RenderedPost,
    post_path,
    render_post,
    save_post,
    set_categories,
    set_tags,
    slug_taken,
    unique_post_slug,
)
from .redirects import add_redirect
from .slugs import slugify
from .text import TextError, clean_body, clean_line, has_invisible
from .urls import image_url_problem

MAX_TITLE_LENGTH = 500
MAX_NAMES = {"categories": 20, "tags": 50}  # per post
MAX_SUMMARY_LENGTH = 5_000  # excerpt, feature text
MAX_REVIEW_NOTE_LENGTH = 2_000
# Dates outside these years are typing mistakes, and year 1 in Seoul is year 0 in UTC,
# which Python cannot represent.
EARLIEST_YEAR, LATEST_YEAR = 1900, 9998


class EditConflict(Exception):
    """The post changed since the editor loaded it; nothing was overwritten."""

    def __init__(self, post: Post) -> None:
        super().__init__(f"post {post.id} is at version {post.version}")
        self.post = post


class NotAllowed(Exception):
    """The user's role does not allow this change."""


class PostGone(Exception):
    """The post was moved to the trash (or deleted) while it was being edited."""


class InvalidFields(Exception):
    """Fields that cannot be saved as they are (an old revision under today's rules)."""

    def __init__(self, fields: PostFields, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.fields, self.errors = fields, errors


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
    # None keeps the post's author (a new post's is whoever writes it).
    author_id: int | None = None

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
        status=post.effective_status(clock.now()),
        published_at=post.published_at,
        author_id=post.author_id,
    )


def split_names(text: str) -> list[str]:
    """'News, 정치 ,  ' -> ['News', '정치']"""
    return [name.strip() for name in text.replace("，", ",").split(",") if name.strip()]


def max_body_length() -> int:
    """The longest post body, in characters (MAX_POST_CHARS)."""
    return int(current_app.config["MAX_POST_CHARS"])


def _text_problem(value: str, max_length: int) -> str | None:
    try:
        clean_line(value, max_length=max_length)
    except TextError as error:
        return str(error)
    return None


def _visible_slug_owner(slug: str, post: Post | None, editor: User) -> bool:
    """Whether a post the editor may know of already has `slug`.

    Others' unpublished posts are not told of (their addresses would leak what is being
    written); a clash with one of those is settled on save with a free variant.
    """
    excluding = post.id if post else None
    if sees_everyones_work(editor):
        return slug_taken(slug, excluding)
    return slug_taken(slug, excluding, visible_to=editor, now=clock.now())


def validate(fields: PostFields, post: Post | None, editor: User) -> dict[str, str]:
    """Field name -> what is wrong with it; empty when the fields can be saved."""
    errors: dict[str, str] = {}
    if not fields.title.strip():
        errors["title"] = _("A title is needed.")
    elif problem := _text_problem(fields.title, MAX_TITLE_LENGTH):
        errors["title"] = problem
    slug = slugify(fields.slug or fields.title)
    if fields.slug and has_invisible(fields.slug):
        errors["slug"] = _("The address contains an invisible control character; remove it.")
    elif fields.slug and not slug:
        errors["slug"] = _("The address needs letters or digits.")
    elif slug and _visible_slug_owner(slug, post, editor):
        errors["slug"] = _("Another post already uses the address “%(slug)s”.", slug=slug)
    if fields.format not in {f.value for f in SourceFormat}:
        errors["format"] = _("Choose Markdown or HTML.")
    if len(fields.body) > max_body_length():
        errors["body"] = _(
            "The body is %(length)s characters long; a post can have at most %(limit)s.",
            length=f"{len(fields.body):,}", limit=f"{max_body_length():,}",
        )  # fmt: skip
    for name in ("excerpt", "feature_text"):
        if len(getattr(fields, name)) > MAX_SUMMARY_LENGTH:
            errors[name] = _("This can be at most %(n)s characters long.", n=MAX_SUMMARY_LENGTH)
    if image_url_problem(fields.feature_image.strip()):
        errors["feature_image"] = _(
            "Use an image from the media library, a path on this site or an https:// address."
        )
    for name, kind in (("categories", "category"), ("tags", "tag")):
        names = getattr(fields, name)
        if len(names) > MAX_NAMES[name]:
            errors[name] = _("A post can have at most %(n)s of these.", n=MAX_NAMES[name])
            continue
        cleaned = []
        for item in names:
            try:
                cleaned.append(taxonomy.clean_name(item))
            except taxonomy.TaxonomyError as error:
                errors[name] = f"“{item[:40]}”: {error}"
                break
        else:
            # Writers may be kept to the existing names: nothing is saved, the new ones named.
            may_add = taxonomy.may_add_terms(editor)
            if not may_add and (unknown := taxonomy.unknown_names(kind, cleaned)):
                errors[name] = taxonomy.unknown_names_message(kind, unknown)
    errors.update(_status_errors(fields, post, editor))
    if problem := _author_problem(fields, post, editor):
        errors["author"] = problem
    return errors


def _author_problem(fields: PostFields, post: Post | None, editor: User) -> str | None:
    current = post.author_id if post is not None else editor.id
    if fields.author_id is None or fields.author_id == current:
        return None
    if not sees_everyones_work(editor):
        return _("Only editors and admins can change a post's author.")
    author = db.session.get(User, fields.author_id)
    if author is None or not author.active:
        return _("Choose an author from the list.")
    return None


def _status_errors(fields: PostFields, post: Post | None, editor: User) -> dict[str, str]:
    now = clock.now()
    moment = fields.published_at
    if moment is not None and not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        return {
            "published_at": _("Choose a date between the years %(first)s and %(last)s.",
                              first=EARLIEST_YEAR, last=LATEST_YEAR)
        }  # fmt: skip
    if fields.status not in {s.value for s in PostStatus}:
        return {"status": _("Choose a status.")}
    if fields.status not in statuses_for(editor, post or _new_post(editor)):
        return {"status": _("Your role can save drafts and submit them for review; "
                            "an editor publishes them.")}  # fmt: skip
    if fields.status == PostStatus.SCHEDULED and (moment is None or moment <= now):
        return {"published_at": _("A scheduled post needs a publish time in the future.")}
    if fields.status == PostStatus.PUBLISHED and moment and moment > now:
        return {"published_at": _("This time is in the future: choose Scheduled to publish then.")}
    return {}


def _new_post(editor: User) -> Post:
    """A stand-in for a post not yet saved, owned by `editor`, for permission checks."""
    return Post(author_id=editor.id, status=PostStatus.DRAFT.value)


_PUBLIC = {PostStatus.PUBLISHED.value, PostStatus.SCHEDULED.value, PostStatus.UNLISTED.value}


def _transition_action(old: str | None, new: str) -> str | None:
    """The audit action of a status change, if it is one the log records."""
    if new in _PUBLIC and old not in _PUBLIC:
        return "post.schedule" if new == PostStatus.SCHEDULED else "post.publish"
    if old in _PUBLIC and new not in _PUBLIC:
        return "post.unpublish"
    if new == PostStatus.PENDING and old != PostStatus.PENDING:
        return "post.submit"
    if old == PostStatus.PENDING and new == PostStatus.DRAFT:
        return "post.withdraw"
    return None


def _transition_note(old: str | None, new: str) -> str | None:
    """The revision note (a code, see labels.note_label) of a status change."""
    if old == new:
        return None
    if new == PostStatus.PENDING:
        return "submitted"
    if new in _PUBLIC:
        return new
    if old in _PUBLIC:
        return "unpublished"
    return "withdrawn" if old == PostStatus.PENDING else None


def save_fields(
    post: Post | None,
    fields: PostFields,
    editor: User,
    base_version: int | None,
    note: str = "",
    review_note: str | None = None,
) -> Post:
    """Create or update a post from validated fields; never overwrites a newer version.

    Raises EditConflict when `base_version` is not the post's current version, and
    NotAllowed when the editor's role forbids the change. Renders first, then writes.
    `note` is a revision-note code (labels.NOTE_LABELS); `review_note`, when given, is
    what the desk tells the writer.
    """
    if post is not None and not can_edit(editor, post):
        raise NotAllowed("edit")
    if fields.status not in statuses_for(editor, post or _new_post(editor)):
        raise NotAllowed("publish")
    if _author_problem(fields, post, editor):
        raise NotAllowed("author")
    excerpt, feature_text = plain_text(fields.excerpt), plain_text(fields.feature_text)
    rendered = render_post(fields.body, fields.format, excerpt, feature_text)
    post_id = post.id if post is not None else None
    try:
        with writing():
            return _write_fields(post_id, fields, editor, base_version, note, rendered,
                                 excerpt, feature_text, review_note)  # fmt: skip
    except StaleDataError:
        # Another database server's writer got there between our read and our write.
        current = db.session.get(Post, post_id)
        assert current is not None
        raise EditConflict(current) from None


def _write_fields(
    post_id: int | None,
    fields: PostFields,
    editor: User,
    base_version: int | None,
    note: str,
    rendered: RenderedPost,
    excerpt: str,
    feature_text: str,
    review_note: str | None,
) -> Post:
    is_new = post_id is None
    if is_new:
        post = Post(author_id=editor.id)
    else:
        # Read again under the write lock: the version check below cannot race.
        found = db.session.get(Post, post_id, populate_existing=True)
        if found is None or found.deleted_at is not None:
            raise PostGone(post_id)
        post = found
        if base_version != post.version:
            raise EditConflict(post)
    now = clock.now()
    old_status = None if is_new else post.effective_status(now)
    old_author_id = post.author_id
    old_path = None if is_new else post_path(post.slug)
    was_public = not is_new and post.is_public(now)
    slug = slugify(fields.slug or fields.title)
    # validate() refused clashes the editor may know of; any other one gets a free variant.
    if slug_taken(slug, post_id):
        slug = unique_post_slug(slug, post_id)

    # One UPDATE per save, so each save bumps the version exactly once.
    with db.session.no_autoflush:
        post.title = clean_line(fields.title)
        post.slug = slug
        post.source_format = fields.format
        post.source = fields.body
        post.excerpt = excerpt
        post.feature_text = feature_text
        post.feature_image = fields.feature_image.strip()
        post.status = fields.status
        post.published_at = fields.published_at
        if post.status in (PostStatus.PUBLISHED, PostStatus.UNLISTED) and post.published_at is None:
            post.published_at = now
        if fields.author_id is not None:
            post.author_id = fields.author_id
        if review_note is not None:
            post.review_note = review_note
        elif post.status in _PUBLIC:
            # Out: the desk's word is done with. A resubmitted post keeps it, so the desk
            # can check the changes against what it asked for.
            post.review_note = ""
        if is_new:
            db.session.add(post)
        set_categories(post, [clean_line(name) for name in fields.categories], editor)
        set_tags(post, [clean_line(name) for name in fields.tags], editor)
    snapshot = fields_of(post).to_json()
    if post.review_note:
        snapshot["review_note"] = post.review_note
    author_changed = not is_new and post.author_id != old_author_id
    notes = [note] if note else []
    if not note:
        notes += ["created"] if is_new else []
        notes += [code] if (code := _transition_note(old_status, post.status)) else []
        notes += ["author"] if author_changed else []
    save_post(
        post,
        editor,
        rendered,
        note=",".join(notes),
        fields={k: v for k, v in snapshot.items() if k not in {"title", "body", "format"}},
    )
    if was_public and old_path != post_path(post.slug):
        # Readers and search engines keep finding the post at its old address.
        add_redirect(post, old_path or "")
    sent_back = note == "sent-back"
    action = "post.send_back" if sent_back else _transition_action(old_status, post.status)
    if action:
        detail = {"review_note": post.review_note} if action == "post.send_back" else {}
        audit.record(editor, action, post.title, post_id=post.id, status=post.status, **detail)
    if author_changed:
        # Names as they were at the time: the log should read without looking ids up.
        before, after = (db.session.get(User, uid) if uid else None
                         for uid in (old_author_id, post.author_id))  # fmt: skip
        audit.record(editor, "post.author", post.title, post_id=post.id,
                     old=old_author_id, new=post.author_id,
                     old_name=before.name if before else "—",
                     new_name=after.name if after else "—")  # fmt: skip
    return post


def send_back(post: Post, editor: User, review_note: str, base_version: int | None) -> Post:
    """Return a post submitted for review to its writer as a draft, with the desk's note.

    Raises NotAllowed for anyone but editors, InvalidFields for a note that cannot be kept,
    and what save_fields raises.
    """
    if not can_review(editor) or post.status != PostStatus.PENDING:
        raise NotAllowed("send back")
    note = clean_body(review_note).strip()
    fields = fields_of(post)
    if not note:
        message = _("Say what should change: the writer reads this note.")
        raise InvalidFields(fields, {"review_note": message})
    if len(note) > MAX_REVIEW_NOTE_LENGTH:
        message = _("This can be at most %(n)s characters long.", n=MAX_REVIEW_NOTE_LENGTH)
        raise InvalidFields(fields, {"review_note": message})
    fields.status = PostStatus.DRAFT.value
    return save_fields(post, fields, editor, base_version, note="sent-back", review_note=note)


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
    # A revision saved before today's rules (a NUL in its title, a javascript: image)
    # comes back into the form to be mended, never half-saved.
    errors = validate(fields, post, editor)
    if errors:
        raise InvalidFields(fields, errors)
    return save_fields(post, fields, editor, post.version, note=f"restored:{revision.post_version}")


@dataclass
class DiffLine:
    kind: str  # "same", "added", "removed"
    text: str


# difflib compares every changed line with every other: beyond this many pairs the
# changed middle is shown as removed, then added, instead of matched line by line.
MAX_DIFF_PAIRS = 1_000_000


def line_diff(old: str, new: str) -> list[DiffLine]:
    """A line-by-line diff of two texts, for conflicts and revision pages.

    The lines both texts start and end with are set aside first (an edit usually
    touches a few lines of a long post), so the costly matching sees only the middle.
    """
    a, b = old.splitlines(), new.splitlines()
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    middle_a, middle_b = a[start : len(a) - end], b[start : len(b) - end]
    lines = [DiffLine("same", text) for text in a[:start]]
    if len(middle_a) * len(middle_b) > MAX_DIFF_PAIRS:
        lines.extend(DiffLine("removed", text) for text in middle_a)
        lines.extend(DiffLine("added", text) for text in middle_b)
    else:
        matcher = difflib.SequenceMatcher(a=middle_a, b=middle_b, autojunk=False)
        for tag, a1, a2, b1, b2 in matcher.get_opcodes():
            if tag == "equal":
                lines.extend(DiffLine("same", text) for text in middle_a[a1:a2])
                continue
            lines.extend(DiffLine("removed", text) for text in middle_a[a1:a2])
            lines.extend(DiffLine("added", text) for text in middle_b[b1:b2])
    lines.extend(DiffLine("same", text) for text in a[len(a) - end :])
    return lines


def trash_post(post: Post, editor: User) -> None:
    if not can_delete(editor, post):
        raise NotAllowed("delete")
    with writing():
        post.deleted_at, post.deleted_by_id = clock.now(), editor.id
        search.forget_posts([post.id])
        audit.record(editor, "post.delete", post.title, post_id=post.id)


def restore_post(post: Post, editor: User) -> None:
    if not can_restore(editor, post):
        raise NotAllowed("restore")
    with writing():
        post.deleted_at = post.deleted_by_id = None
        search.reindex_posts([post.id])
        audit.record(editor, "post.restore", post.title, post_id=post.id)


def empty_trash(editor: User) -> int:
    with writing():
        trashed = (
            db.session.execute(select(Post).where(Post.deleted_at.is_not(None))).scalars().all()
        )
        for post in trashed:
            db.session.delete(post)
        search.forget_posts([post.id for post in trashed])  # none should be there: make sure
        audit.record(editor, "trash.empty", f"{len(trashed)} posts",
                     titles=[p.title for p in trashed])  # fmt: skip
    return len(trashed)
