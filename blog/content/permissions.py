"""Who may do what, as Ghost teams know it. Plain rules: the web layer enforces them per route
(blog.auth.permissions.require_role) and the domain checks them before every change.

contributor: writes drafts and submits them for review, cannot publish · author: publishes
own posts ·
editor: edits and publishes every post, manages categories, tags and the trash ·
admin: everything, plus users and site settings.
"""

from __future__ import annotations

from ..models import Post, PostStatus, Role, User

# What a writer who cannot publish may set: keep a draft, or hand it to the desk.
WRITER_STATUSES = (PostStatus.DRAFT.value, PostStatus.PENDING.value)


def owns(user: User, post: Post) -> bool:
    return post.author_id == user.id


def can_edit(user: User, post: Post) -> bool:
    if user.has_role(Role.EDITOR):
        return True
    if not owns(user, post):
        return False
    # Contributors may mend a post until it is out; from then on editors look after it.
    return user.has_role(Role.AUTHOR) or post.status in WRITER_STATUSES


def can_publish(user: User, post: Post) -> bool:
    """May set a public status (publish, schedule, unlist)."""
    return user.has_role(Role.EDITOR) or (user.has_role(Role.AUTHOR) and owns(user, post))


def statuses_for(user: User, post: Post) -> list[PostStatus]:
    """The statuses `user` may give `post`, in the order the editor offers them."""
    if can_publish(user, post):
        return list(PostStatus)
    return [status for status in PostStatus if status in WRITER_STATUSES]


def can_review(user: User) -> bool:
    """May publish or send back posts submitted for review."""
    return user.has_role(Role.EDITOR)


def can_delete(user: User, post: Post) -> bool:
    return can_edit(user, post)


def can_restore(user: User, post: Post) -> bool:
    """May take `post` out of the trash: editors always; a writer only what they trashed
    themselves (an editor's takedown stays down until an editor says otherwise)."""
    if sees_everyones_work(user):
        return True
    return post.deleted_by_id == user.id and can_edit(user, post)


def sees_everyones_work(user: User) -> bool:
    """Editors and admins see every post, draft or not; others see their own and public ones."""
    return user.has_role(Role.EDITOR)
