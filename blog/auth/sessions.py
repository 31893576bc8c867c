"""Server-side login sessions: a cookie alone is not enough to stay signed in.

The session cookie carries a random session id; every request checks it against
`login_sessions`, so logout, a password change or "sign out everywhere" ends a session at
once even for someone who kept a copy of the cookie.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import cache

from flask import request, session
from flask_login import login_user, logout_user
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.exc import OperationalError

from .. import clock
from ..database import writing
from ..extensions import db
from ..models import LoginSession, User

SESSION_KEY = "login_session"
# Only write last_seen_at this often, so reading pages does not turn into writes.
TOUCH_EVERY = timedelta(minutes=5)


def start_session(user: User, remember: bool = False) -> LoginSession:
    """Sign `user` in on this browser."""
    session.clear()  # a fresh session id defeats session fixation
    session_id = secrets.token_urlsafe(32)
    user_id = user.id
    with writing():
        record = LoginSession(
            id=session_id,
            user_id=user_id,
            created_at=clock.now(),
            last_seen_at=clock.now(),
            user_agent=(request.user_agent.string or "")[:300],
            ip_address=(request.remote_addr or "")[:64],
        )
        db.session.add(record)
    session[SESSION_KEY] = session_id
    session.permanent = remember
    login_user(user, remember=False)
    return record


def current_session_id() -> str | None:
    return session.get(SESSION_KEY)


@cache
def _live_session_query() -> Select[tuple[User, datetime]]:
    """The user of a live session and when it was last seen: one statement, built once,
    because it runs on every signed-in request."""
    return (
        select(User, LoginSession.last_seen_at)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.id == bindparam("session_id"),
            LoginSession.ended_at.is_(None),
            LoginSession.user_id == bindparam("user_id"),
        )
    )


def load_user_for_session(user_id: str) -> User | None:
    """Flask-Login's user loader: the user only while their session is live."""
    session_id = current_session_id()
    if not session_id or not user_id.isdigit():
        return None
    found = db.session.execute(
        _live_session_query(), {"session_id": session_id, "user_id": int(user_id)}
    ).first()
    if found is None:
        return None
    user, last_seen_at = found
    if not user.active:
        return None
    if clock.now() - last_seen_at > TOUCH_EVERY:
        try:
            with writing(wait=False):
                db.session.execute(
                    update(LoginSession)
                    .where(LoginSession.id == session_id)
                    .values(last_seen_at=clock.now())
                )
        except OperationalError:
            pass  # a page read must not fail because a writer holds the lock; next time
        return db.session.get(User, int(user_id))
    return user


def end_session() -> None:
    """Sign out this browser."""
    session_id = current_session_id()
    if session_id:
        with writing():
            db.session.execute(
                update(LoginSession)
                .where(LoginSession.id == session_id, LoginSession.ended_at.is_(None))
                .values(ended_at=clock.now())
            )
    logout_user()
    session.clear()


def end_all_sessions(user: User, keep: str | None = None) -> int:
    """Sign `user` out everywhere (but `keep`), inside `writing()`. Returns how many ended."""
    query = select(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)
    )
    ended = 0
    for record in db.session.execute(query).scalars():
        if record.id != keep:
            record.ended_at = clock.now()
            ended += 1
    return ended
