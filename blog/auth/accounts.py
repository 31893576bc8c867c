"""User accounts: creation and password hashing (scrypt, via Werkzeug)."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Role, User


def generate_password() -> str:
    """A random password that is easy to copy from a terminal."""
    return secrets.token_urlsafe(12)


def create_user(
    username: str, password: str, role: Role = Role.CONTRIBUTOR, email: str | None = None
) -> User:
    user = User(
        username=username.strip(),
        email=email,
        password_hash=generate_password_hash(password),
        role=role.value,
    )
    db.session.add(user)
    return user


def check_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def find_user(username: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.username) == username.strip().lower())
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
