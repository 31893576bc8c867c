"""Who may do what, as Ghost teams know it. Every view asks here; hidden buttons are not enough.

contributor: writes drafts, cannot publish · author: publishes own posts ·
editor: edits and publishes every post, manages categories, tags and the trash ·
admin: everything, plus users and site settings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from ..models import Post, PostStatus, Role, User

F = TypeVar("F", bound=Callable[..., Any])


def owns(user: User, post: Post) -> bool:
    return post.author_id == user.id


def can_edit(user: User, post: Post) -> bool:
    if user.has_role(Role.EDITOR):
        return True
    if not owns(user, post):
        return False
    # Contributors hand a post over once it is out; from then on editors look after it.
    return user.has_role(Role.AUTHOR) or post.status == PostStatus.DRAFT


def can_publish(user: User, post: Post) -> bool:
    """May set a status other than draft (publish, schedule, unlist)."""
    return user.has_role(Role.EDITOR) or (user.has_role(Role.AUTHOR) and owns(user, post))


def can_delete(user: User, post: Post) -> bool:
    return can_edit(user, post)


def require_role(role: Role) -> Callable[[F], F]:
    """View decorator: 403 unless the signed-in user has at least `role`."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from ..extensions import login_manager

                return login_manager.unauthorized()
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
