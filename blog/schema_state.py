"""Whether the database's schema is the one this code expects, told without Alembic.

`blog serve` and /healthz must not import Alembic (an eighth of a second of every start-up;
see extensions.init_migrations), so the migrations' revision ids are read from the files
in blog/migrations/versions as text: each says `revision = "..."` and
`down_revision = "..."`. The newest (head) is the one no other revision names as its parent.
The database says where it is in its alembic_version table.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

VERSIONS = Path(__file__).parent / "migrations" / "versions"

# `revision = "178d4886ab14"` and `down_revision = None` (or a quoted id) at a line's start.
REVISION_LINE = re.compile(
    r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(?:['\"](\w+)['\"]|None)", re.MULTILINE
)

SchemaState = Literal["current", "older", "newer", "empty"]

OLDER_MESSAGE = (
    "The database schema is older than this version of the blog: run `blog init` to upgrade it."
)
NEWER_MESSAGE = (
    "The database schema ({found}) is newer than this version of the blog knows (newest: "
    "{head}): it was upgraded by a later version. Run that version, or restore a backup made "
    "for this one."
)


@cache
def revisions() -> tuple[frozenset[str], frozenset[str]]:
    """Every revision id the migrations folder holds, and the heads among them."""
    known: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        found = dict.fromkeys(("revision", "down_revision"), "")
        for name, value in REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            found[name] = value
        if found["revision"]:
            known.add(found["revision"])
            if found["down_revision"]:
                parents.add(found["down_revision"])
    return frozenset(known), frozenset(known - parents)


def schema_state(connection: Connection) -> tuple[SchemaState, str]:
    """Where the database's schema stands against this code, with its revision ("" if none).

    "empty": no tables at all (a new blog: `blog init` makes them); "older": a known
    revision behind the head, or tables made before migrations existed (no alembic_version;
    `blog init` stamps and upgrades them); "newer": a revision these migrations do not know.
    """
    known, heads = revisions()
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" not in tables:
        return ("older" if tables else "empty"), ""
    found = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    if not found:
        return "older", ""
    shown = ",".join(sorted(found))
    if found - known:
        return "newer", shown
    return ("current" if found == heads else "older"), shown


def head_revision() -> str:
    """The head revision id(s), for messages."""
    return ",".join(sorted(revisions()[1]))
