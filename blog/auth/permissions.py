"""Enforcing role rules on routes; the rules themselves are in blog.content.permissions."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from ..extensions import login_manager
from ..models import Role

F = TypeVar("F", bound=Callable[..., Any])


def require_role(role: Role) -> Callable[[F], F]:
    """View decorator: 403 unless the signed-in user has at least `role`."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
