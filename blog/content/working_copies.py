"""Autosaved working copies: what an editor typed but has not saved, per user and post."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select

from .. import clock
from ..extensions import db
from ..models import User, WorkingCopy

# Form fields worth keeping; the CSRF token and buttons are not.
KEPT_FIELDS = ("title", "slug", "format", "body", "excerpt", "feature_text", "feature_image",
               "categories", "tags", "status", "published_at", "version")  # fmt: skip


def store_working_copy(user: User, post_key: str, form: Mapping[str, str]) -> WorkingCopy:
    """Keep the form as typed; one working copy per user and post, newest wins."""
    working = load_working_copy(user, post_key)
    if working is None:
        working = WorkingCopy(user_id=user.id, post_key=post_key)
        db.session.add(working)
    working.fields = {name: form.get(name, "") for name in KEPT_FIELDS}
    working.saved_at = clock.now()
    db.session.commit()
    return working


def load_working_copy(user: User, post_key: str) -> WorkingCopy | None:
    return db.session.execute(
        select(WorkingCopy).where(WorkingCopy.user_id == user.id, WorkingCopy.post_key == post_key)
    ).scalar_one_or_none()


def discard_working_copy(user: User, post_key: str) -> None:
    db.session.execute(
        delete(WorkingCopy).where(WorkingCopy.user_id == user.id, WorkingCopy.post_key == post_key)
    )
    db.session.commit()
