"""User accounts: creation, passwords (scrypt via Werkzeug) and one-time reset links."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .. import clock
from ..content.people import MAX_BIO_LENGTH
from ..content.text import TextError, clean_body, clean_line
from ..content.urls import image_url_problem
from ..database import writing
from ..extensions import db
from ..models import PasswordReset, Role, User
from .sessions import end_all_sessions

MIN_PASSWORD_LENGTH = 10
# Long enough for any passphrase or manager-made password; hashing a megabyte is not.
MAX_PASSWORD_LENGTH = 256
MIN_DISTINCT_CHARACTERS = 5
MAX_USERNAME_LENGTH = 80
MAX_DISPLAY_NAME_LENGTH = 120
RESET_LINK_LIFETIME = timedelta(hours=24)


@cache
def _dummy_hash() -> str:
    """Checked against when the account does not exist, so a wrong name costs the same
    time. Made at the first sign-in, not at import: scrypt is a tenth of start-up."""
    return generate_password_hash("not a real password")


class AccountError(ValueError):
    """A request about an account that cannot be honoured (message is for the user);
    `field` names the form field it is about, when it is about one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def generate_password() -> str:
    """A random password that is easy to copy from a terminal."""
    return secrets.token_urlsafe(12)


def _is_sequence(password: str) -> bool:
    """`1234567890`, `abcdefghij`, `aabbccddee`: (almost) every next character is a
    neighbour of the one before."""
    steps = [ord(b) - ord(a) for a, b in zip(password, password[1:], strict=False)]
    return sum(abs(step) <= 1 for step in steps) >= len(steps) - 1


def check_new_password(password: str, username: str = "") -> None:
    """Refuse passwords that are too short, too long or made of too few different characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_("Passwords need at least %(n)s characters.", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(_("Passwords can have at most %(n)s characters.", n=MAX_PASSWORD_LENGTH))
    if len(set(password)) < MIN_DISTINCT_CHARACTERS or _is_sequence(password):
        raise AccountError(
            _("This password is too easy to guess: use at least %(n)s different characters.",
              n=MIN_DISTINCT_CHARACTERS)
        )  # fmt: skip
    if len(username) >= 4 and username.lower() in password.lower():
        raise AccountError(_("The password must not contain the user name."))


@dataclass(frozen=True)
class NewPassword:
    """A password that passed the rules, hashed already: scrypt takes a tenth of a second,
    which belongs before `writing()`, not under the write lock."""

    hash: str


def new_password(password: str, username: str = "") -> NewPassword:
    """Check `password` against the rules (AccountError) and hash it."""
    check_new_password(password, username)
    return NewPassword(generate_password_hash(password))


def clean_username(username: str) -> str:
    """A login name as stored: NFC, no invisible characters, no spaces inside."""
    try:
        name = clean_line(username, max_length=MAX_USERNAME_LENGTH)
    except TextError as error:
        raise AccountError(str(error), field="username") from None
    if not name:
        raise AccountError(_("A user name is needed."), field="username")
    if any(char.isspace() for char in name):
        raise AccountError(_("A user name cannot contain spaces."), field="username")
    return name


def clean_display_name(name: str) -> str:
    try:
        return clean_line(name, max_length=MAX_DISPLAY_NAME_LENGTH)
    except TextError as error:
        raise AccountError(str(error), field="display_name") from None


def clean_email(email: str | None) -> str | None:
    if not email or not email.strip():
        return None
    try:
        return clean_line(email, max_length=254).lower()
    except TextError as error:
        raise AccountError(str(error), field="email") from None


def clean_bio(bio: str) -> str:
    """A byline's bio: plain text (shown escaped), line breaks kept, at most MAX_BIO_LENGTH."""
    lines = clean_body(bio).strip().split("\n")
    try:
        text = "\n".join(clean_line(line) for line in lines)
    except TextError as error:
        raise AccountError(str(error), field="bio") from None
    if len(text) > MAX_BIO_LENGTH:
        raise AccountError(
            _("A bio can have at most %(n)s characters; this one has %(length)s.",
              n=MAX_BIO_LENGTH, length=len(text)),
            field="bio",
        )  # fmt: skip
    return text


def clean_avatar(url: str) -> str:
    """A byline's picture: a media-library or site path, or an https: address."""
    try:
        url = clean_line(url, max_length=1000)
    except TextError as error:
        raise AccountError(str(error), field="avatar") from None
    if image_url_problem(url):
        raise AccountError(
            _("Use an image from the media library, a path on this site or an https:// address."),
            field="avatar",
        )
    return url


def _taken_problem(username: str, email: str | None) -> AccountError | None:
    """Why a new account cannot have this name or e-mail: another account has it."""
    if find_user(username) is not None:
        return AccountError(
            _("The user name “%(name)s” is already taken.", name=username), field="username"
        )
    if email and find_user(email) is not None:
        return AccountError(
            _("The e-mail address “%(email)s” is already in use by another account.",
              email=email),
            field="email",
        )  # fmt: skip
    return None


def create_user(
    username: str,
    password: NewPassword | str,
    role: Role = Role.CONTRIBUTOR,
    email: str | None = None,
    display_name: str = "",
) -> User:
    """Add a user, inside `writing()`; AccountError names what is wrong.

    Pass a NewPassword made before `writing()`; a plain text password is checked and
    hashed here (scripts and tests).
    """
    username = clean_username(username)
    if isinstance(password, str):
        password = new_password(password, username)
    email = clean_email(email)
    display_name = clean_display_name(display_name)
    if problem := _taken_problem(username, email):
        raise problem
    user = User(
        username=username,
        email=email,
        display_name=display_name,
        password_hash=password.hash,
        role=Role(role).value,
    )
    db.session.add(user)
    # Another admin adding the same name at this moment: the database says so.
    if not _flushed():
        raise _taken_problem(username, email) or AccountError(
            _("The user name “%(name)s” is already taken.", name=username), field="username"
        )
    return user


def _flushed() -> bool:
    """Flush in a savepoint; False when a unique key was taken (the savepoint is undone)."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        return False
    return True


def update_profile(
    user: User,
    display_name: str,
    email: str,
    language: str | None,
    bio: str | None = None,
    avatar: str | None = None,
) -> None:
    """Change a user's own profile (bio and avatar kept when None). A taken e-mail is
    refused without saying whose it is; AccountError.field names the field at fault."""
    display = clean_display_name(display_name)
    address = clean_email(email)
    new_bio = user.bio if bio is None else clean_bio(bio)
    new_avatar = user.avatar if avatar is None else clean_avatar(avatar)
    refused = AccountError(
        _("This e-mail address is already in use, so it cannot be used for your account; "
          "an administrator can help."),
        field="email",
    )  # fmt: skip
    if address is not None and address != user.email:
        other = find_user(address)
        if other is not None and other.id != user.id:
            raise refused
    with writing():
        user.display_name = display
        user.email = address
        user.language = language
        user.bio, user.avatar = new_bio, new_avatar
        if not _flushed():  # someone took the address since the check above
            raise refused


def set_password(user: User, password: NewPassword | str, keep_session: str | None = None) -> None:
    """Change the password and end every other session of the user, inside `writing()`."""
    if isinstance(password, str):
        password = new_password(password, user.username)
    user.password_hash = password.hash
    end_all_sessions(user, keep=keep_session)
    _revoke_reset_links(user)


def check_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def authenticate(login: str, password: str) -> User | None:
    """The active user with this name or e-mail and password, else None (same cost either way)."""
    user = find_user(login)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password(user, password) or not user.active:
        return None
    return user


def find_user(login: str) -> User | None:
    """By user name or e-mail, case-insensitively (a user name wins over an e-mail)."""
    login = unicodedata.normalize("NFC", login).strip().lower()
    if not login:
        return None
    return (
        db.session.execute(
            select(User)
            .where((func.lower(User.username) == login) | (User.email == login))
            .order_by((func.lower(User.username) == login).desc(), User.id)
        )
        .scalars()
        .first()
    )


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


def _revoke_reset_links(user: User) -> None:
    """Links not used yet stop working (a newer link, or the password changed)."""
    db.session.execute(
        delete(PasswordReset).where(
            PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None)
        )
    )


def create_reset_link_token(user: User, created_by: User | None) -> str:
    """A one-time token for a password-reset link, inside `writing()`; only its hash is stored.

    Any earlier link of the user stops working: only the newest one is valid.
    """
    _revoke_reset_links(user)
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


def use_reset(token: str, password: NewPassword | str) -> User:
    """Set a new password through a reset link, which then stops working."""
    reset = find_reset(token)
    if reset is None:
        raise AccountError(_("This link has expired or was already used."))
    user = reset.user
    reset.used_at = clock.now()
    set_password(user, password)
    return user
