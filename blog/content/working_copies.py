"""Autosaved working copies: what an editor typed but has not saved, per user and post."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select

from .. import clock
from ..database import upsert, writing
from ..extensions import db
from ..models import User, WorkingCopy
from .text import clean_body

# Form fields worth keeping; the CSRF token and buttons are not.
KEPT_FIELDS = ("title", "slug", "format", "body", "excerpt", "feature_text", "feature_image",
               "categories", "tags", "status", "published_at", "version")  # fmt: skip


def store_working_copy(user: User, post_key: str, form: Mapping[str, str]) -> WorkingCopy:
    """Keep the form as typed; one working copy per user and post, newest wins.

    One upsert statement, so an autosave racing a save or a discard of the same copy never
    finds a row gone from under it. Returns the stored values (not attached to the session).
    """
    values = {
        "user_id": user.id,
        "post_key": post_key,
        "fields": {name: clean_body(form.get(name, "")) for name in KEPT_FIELDS},
        "saved_at": clock.now(),
    }
    with writing():
        upsert(db.session, WorkingCopy, values, unique=["user_id", "post_key"])
    return WorkingCopy(**values)


def load_working_copy(user: User, post_key: str) -> WorkingCopy | None:
    return db.session.execute(
        select(WorkingCopy).where(WorkingCopy.user_id == user.id, WorkingCopy.post_key == post_key)
    ).scalar_one_or_none()


def discard_working_copy(user: User, post_key: str) -> None:
    with writing():
        db.session.execute(
            delete(WorkingCopy).where(
                WorkingCopy.user_id == user.id, WorkingCopy.post_key == post_key
            )
        )
