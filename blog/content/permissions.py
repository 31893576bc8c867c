"""Who may do what, as Ghost teams know it. Plain rules: the web layer enforces them per route
(blog.auth.permissions.require_role) and the domain checks them before every change.

contributor: writes drafts, cannot publish · author: publishes own posts ·
editor: edits and publishes every post, manages categories, tags and the trash ·
admin: everything, plus users and site settings.
"""

from __future__ import annotations

from ..models import Post, PostStatus, Role, User


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


def sees_everyones_work(user: User) -> bool:
    """Editors and admins see every post, draft or not; others see their own and public ones."""
    return user.has_role(Role.EDITOR)
