"""The key that signs sessions and CSRF tokens: kept in the database, with everything else.

Every process of a blog, on whatever machine, reads the same key from the database it
shares, and a backup restored into a fresh data directory keeps everyone signed in.
SECRET_KEY, in the app's config or the environment, wins over the stored key. Versions
before this one kept the key in the data directory's `secret_key` file: the first start on
a database that can hold the key moves the file's key into it (and deletes the file), so
nobody is signed out by the upgrade.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from sqlalchemy import inspect, select
from sqlalchemy.exc import SQLAlchemyError

from .database import insert_if_absent, writing
from .extensions import db
from .models import Secret

KEY_NAME = "secret_key"
OLD_KEY_FILE = "secret_key"  # in the data directory, where earlier versions wrote it
# Set when SECRET_KEY came from the config or the environment: the stored key never replaces it.
_GIVEN = "SECRET_KEY_GIVEN"


def configure_secret_key(app: Flask) -> None:
    """Give the app its SECRET_KEY at start (one query), unless the config has one.

    The database's key; stored first when the database can hold it but has none yet.
    Until it can (a new database, or one older than this code: `blog init` upgrades it),
    the old file's key when there is one, else a key of this process alone.
    """
    if app.config.get("SECRET_KEY"):
        app.config[_GIVEN] = True
        return
    instance = Path(app.instance_path)
    with app.app_context():
        key = stored_secret_key(instance) if _database_exists() else None
    app.config["SECRET_KEY"] = key or _old_file_key(instance) or secrets.token_hex(32)


def keep_secret_key(app: Flask) -> None:
    """Store the key in the database if it is not there yet (`blog init`, after the schema
    is current), and sign with it from now on unless SECRET_KEY was given."""
    key = stored_secret_key(Path(app.instance_path))
    if key and not app.config.get(_GIVEN):
        app.config["SECRET_KEY"] = key


def stored_secret_key(instance: Path) -> str | None:
    """The database's key, storing one when it has none (the old file's, moved in, else a
    new random one); None when the database cannot hold one yet (no such table)."""
    try:
        key = db.session.execute(select(Secret.value).where(Secret.name == KEY_NAME)).scalar()
        if key is None:
            key = _store_key(instance)
    except SQLAlchemyError as error:
        db.session.rollback()
        if _has_secrets_table():  # not a missing table: something is wrong, say what
            from flask import current_app

            # The error's class and the database's own words, never the statement's
            # parameters: they may hold the key.
            current_app.logger.warning(
                "The secret key could not be read or stored (%s: %s); this process signs "
                "with a key of its own until it can",
                type(error).__name__,
                getattr(error, "orig", None) or "no further detail",
            )
        return None
    return key


def _store_key(instance: Path) -> str:
    old_file = instance / OLD_KEY_FILE
    old_key = _old_file_key(instance)
    with writing():
        # Of several processes starting at once, one key wins and all of them read it.
        values = {"name": KEY_NAME, "value": old_key or secrets.token_hex(32)}
        insert_if_absent(db.session, Secret, values, unique=["name"])
    key = db.session.execute(select(Secret.value).where(Secret.name == KEY_NAME)).scalar_one()
    if old_key is not None and key == old_key:
        old_file.unlink(missing_ok=True)  # moved: the database holds it now
    return str(key)


def _old_file_key(instance: Path) -> str | None:
    try:
        return (instance / OLD_KEY_FILE).read_text().strip() or None
    except OSError:
        return None


def _database_exists() -> bool:
    """False for a SQLite file not made yet: reading it would create it (empty) as a side
    effect of, say, `blog --help` in an empty folder. A database server's is always there."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return True
    return os.path.exists(url.database)


def _has_secrets_table() -> bool:
    try:
        with db.engine.connect() as connection:
            return inspect(connection).has_table(Secret.__tablename__)
    except SQLAlchemyError:
        return True  # the database cannot be reached at all: worth the warning
