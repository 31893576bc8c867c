"""What the interface calls statuses and history notes, in the reader's language.

Stored values stay machine words ("pending", "submitted"); every page and message names
them through here, so one concept has one name everywhere.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..models import PostStatus
from .people import role_label

STATUS_LABELS = {
    PostStatus.DRAFT.value: _l("Draft"),
    PostStatus.PENDING.value: _l("Pending review"),
    PostStatus.PUBLISHED.value: _l("Published"),
    PostStatus.SCHEDULED.value: _l("Scheduled"),
    PostStatus.UNLISTED.value: _l("Unlisted"),
}

# What the primary button of the editor does for each chosen status.
SAVE_LABELS = {
    PostStatus.DRAFT.value: _l("Save"),
    PostStatus.PENDING.value: _l("Submit for review"),
    PostStatus.PUBLISHED.value: _l("Publish"),
    PostStatus.SCHEDULED.value: _l("Schedule"),
    PostStatus.UNLISTED.value: _l("Publish by link"),
}

# Revision notes are stored as comma-separated codes ("created,submitted", "restored:3").
NOTE_LABELS = {
    "created": _l("Created"),
    "submitted": _l("Submitted for review"),
    "withdrawn": _l("Taken back from review"),
    "sent-back": _l("Sent back to the writer"),
    "published": _l("Published"),
    "scheduled": _l("Scheduled"),
    "unlisted": _l("Unlisted"),
    "unpublished": _l("Unpublished"),
    "author": _l("Author changed"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def save_label(status: str, already_public: bool = False) -> str:
    """The primary button's words: "Update" for a public post that stays public."""
    if already_public and status in (PostStatus.PUBLISHED.value, PostStatus.UNLISTED.value):
        return _("Update")
    return str(SAVE_LABELS.get(status, SAVE_LABELS[PostStatus.DRAFT.value]))


def note_label(note: str) -> str:
    """A stored revision note as the reader's language says it."""
    if note.startswith("restored revision "):  # written before notes were codes
        note = "restored:" + note.removeprefix("restored revision ")
    parts = []
    for code in filter(None, note.split(",")):
        if code.startswith("restored:"):
            parts.append(_("Restored revision %(number)s", number=code.removeprefix("restored:")))
        else:
            parts.append(str(NOTE_LABELS.get(code, code)))
    return " · ".join(parts)


# Audit-log actions ("category.rename" and "tag.rename" share their words).
ACTION_LABELS = {
    "post.publish": _l("Published a post"),
    "post.schedule": _l("Scheduled a post"),
    "post.unpublish": _l("Unpublished a post"),
    "post.submit": _l("Submitted a post for review"),
    "post.withdraw": _l("Took a post back from review"),
    "post.send_back": _l("Sent a post back to its writer"),
    "post.author": _l("Changed a post's author"),
    "post.delete": _l("Moved a post to the trash"),
    "post.restore": _l("Restored a post from the trash"),
    "trash.empty": _l("Emptied the trash"),
    "media.describe": _l("Described a media file"),
    "media.delete": _l("Deleted a media file"),
    "category.create": _l("Added a category"),
    "category.rename": _l("Renamed a category"),
    "category.slug": _l("Changed a category's address"),
    "category.merge": _l("Merged categories"),
    "category.delete": _l("Deleted a category"),
    "tag.create": _l("Added a tag"),
    "tag.rename": _l("Renamed a tag"),
    "tag.slug": _l("Changed a tag's address"),
    "tag.merge": _l("Merged tags"),
    "tag.delete": _l("Deleted a tag"),
    "user.create": _l("Added a user"),
    "user.role": _l("Changed a user's role"),
    "user.activate": _l("Reactivated a user"),
    "user.deactivate": _l("Deactivated a user"),
    "user.password_reset": _l("Reset a password"),
    "user.reset_link": _l("Made a password-reset link"),
    "user.sign_out": _l("Signed a user out everywhere"),
    "settings.change": _l("Changed the site settings"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


# What the audit log's details are called; keys set to None are shown only in the code view.
DETAIL_LABELS = {
    "status": _l("Status"),
    "role": _l("Role"),
    "old": _l("Before"),
    "new": _l("After"),
    "old_name": _l("Before"),
    "new_name": _l("After"),
    "slug": _l("Address"),
    "old_slug": _l("Former address"),
    "source": _l("Merged from"),
    "moved": _l("Posts moved"),
    "used_by": _l("Posts using it"),
    "review_note": _l("Note"),
    "titles": _l("Posts"),
    "sessions": _l("Sessions ended"),
    "locked": _l("Set by hand"),
    "via": _l("Through"),
    "post_id": None,
    "sha256": None,
    "size": None,
}
_ROLE_DETAILS = {"role"}


def audit_details(action: str, detail: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs of an audit event's details, in the reader's words."""
    # A post's author change names people (old_name/new_name); the ids stay for the record.
    hidden = {"old", "new"} if "old_name" in detail else set()
    pairs = []
    for key, value in detail.items():
        label = DETAIL_LABELS.get(key, key)
        if label is None or key in hidden:
            continue
        if key in _ROLE_DETAILS or (action == "user.role" and key in ("old", "new")):
            value = role_label(str(value))
        elif key == "status":
            value = status_label(str(value))
        elif isinstance(value, bool):
            value = _("yes") if value else _("no")
        elif isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        elif key == "via" and value == "cli":
            value = _("the blog command")
        pairs.append((str(label), str(value)))
    return pairs
