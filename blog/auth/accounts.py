"""User accounts: creation, passwords (scrypt via Werkzeug) and one-time reset links."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import clock
from ..extensions import db
from ..models import PasswordReset, Role, User
from .sessions import end_all_sessions

MIN_PASSWORD_LENGTH = 10
RESET_LINK_LIFETIME = timedelta(hours=24)
# Checked against when the account does not exist, so a wrong name costs the same time.
_DUMMY_HASH = generate_password_hash("not a real password")


class AccountError(ValueError):
    """A request about an account that cannot be honoured (message is for the user)."""


def generate_password() -> str:
    """A random password that is easy to copy from a terminal."""
    return secrets.token_urlsafe(12)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_("Passwords need at least %(n)s characters.", n=MIN_PASSWORD_LENGTH))


def create_user(
    username: str,
    password: str,
    role: Role = Role.CONTRIBUTOR,
    email: str | None = None,
    display_name: str = "",
) -> User:
    username = username.strip()
    if not username:
        raise AccountError(_("A user name is needed."))
    if find_user(username) is not None or (email and find_user(email) is not None):
        raise AccountError(_("The name or e-mail “%(name)s” is already taken.", name=username))
    user = User(
        username=username,
        email=(email or "").strip().lower() or None,
        display_name=display_name.strip(),
        password_hash=generate_password_hash(password),
        role=Role(role).value,
    )
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str, keep_session: str | None = None) -> None:
    """Change the password and end every other session of the user; the caller commits."""
    check_new_password(password)
    user.password_hash = generate_password_hash(password)
    end_all_sessions(user, keep=keep_session)


def check_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def authenticate(login: str, password: str) -> User | None:
    """The active user with this name or e-mail and password, else None (same cost either way)."""
    user = find_user(login)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password(user, password) or not user.active:
        return None
    return user


def find_user(login: str) -> User | None:
    """By user name or e-mail, case-insensitively."""
    login = login.strip().lower()
    return db.session.execute(
        select(User).where((func.lower(User.username) == login) | (User.email == login))
    ).scalar_one_or_none()


def first_admin() -> User | None:
    return (
        db.session.execute(
            select(User)
            .where(User.role == Role.ADMIN.value, User.active.is_(True))
            .order_by(User.id)
        )
        .scalars()
        .first()
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_reset_link_token(user: User, created_by: User | None) -> str:
    """A one-time token for a password-reset link; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordReset(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_by_id=created_by.id if created_by else None,
            created_at=clock.now(),
            expires_at=clock.now() + RESET_LINK_LIFETIME,
        )
    )
    return token


def find_reset(token: str) -> PasswordReset | None:
    """The reset a token belongs to, if it is unused and not expired."""
    reset = db.session.execute(
        select(PasswordReset).where(PasswordReset.token_hash == _token_hash(token))
    ).scalar_one_or_none()
    if reset is None or reset.used_at is not None or reset.expires_at < clock.now():
        return None
    return reset


def use_reset(token: str, password: str) -> User:
    """Set a new password through a reset link, which then stops working."""
    reset = find_reset(token)
    if reset is None:
        raise AccountError(_("This link has expired or was already used."))
    set_password(reset.user, password)
    reset.used_at = clock.now()
    return reset.user
