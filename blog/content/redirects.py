"""Old URLs (Jekyll permalinks, redirect_from, former slugs) that now lead to a post."""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import unquote

from sqlalchemy import select

from ..extensions import db
from ..models import Post, Redirect

_SLASHES = re.compile(r"/{2,}")


def normalise_path(path: str) -> str:
    """One spelling for every way a static host answers the same page.

    `/a/b.html`, `/a/b`, `/a/b/` and `/a/b/index.html` are one page on GitHub Pages and
    most static hosts; Hangul may arrive percent-encoded or decomposed (macOS file names).
    """
    path = unquote(path) if "%" in path else path
    path = unicodedata.normalize("NFC", path.split("?", 1)[0].split("#", 1)[0])
    path = _SLASHES.sub("/", "/" + path.strip())
    if path.endswith("/index.html"):
        path = path[: -len("index.html")]
    elif path.endswith(".html"):
        path = path[: -len(".html")]
    path = posixpath.normpath(path) if path not in {"", "/"} else "/"
    return path.rstrip("/") or "/"


# The longest old address kept (the column's length).
MAX_OLD_PATH = Redirect.__table__.c.old_path.type.length


def add_redirect(post: Post, old_path: str, known: dict[str, int] | None = None) -> str | None:
    """Point `old_path` at `post`; return a warning if the path already means another post.

    `known` (path key -> post id), when given, holds every redirect of the paths asked about
    in this write transaction (`redirects_of`), and gets the ones added: nothing is looked up.
    """
    key = normalise_path(old_path)
    if key == "/":
        return f"redirect from {old_path!r} ignored: it is the home page"
    if len(key) > MAX_OLD_PATH:
        # SQLite would store it; PostgreSQL refuses the whole save. Refused on both alike.
        return f"redirect from {old_path[:80]!r}… ignored: longer than {MAX_OLD_PATH} characters"
    if known is not None:
        existing_post_id = known.get(key)
    else:
        existing_post_id = db.session.execute(
            select(Redirect.post_id).where(Redirect.old_path == key)
        ).scalar_one_or_none()
    if existing_post_id is None:
        for pending in post.redirects:
            if pending.old_path == key:
                return None
        post.redirects.append(Redirect(old_path=key))
        if known is not None:
            assert post.id is not None  # saved (flushed) before its redirects are added
            known[key] = post.id
        return None
    if existing_post_id != post.id:
        return f"old URL {old_path!r} already leads to another post; kept that one"
    return None


def redirects_of(old_paths: Iterable[str]) -> dict[str, int]:
    """Path key -> post id of the redirects there are for these paths, in one query."""
    keys = list({normalise_path(path) for path in old_paths})
    found: dict[str, int] = {}
    for start in range(0, len(keys), 500):  # well under any database's parameter limit
        rows = db.session.execute(
            select(Redirect.old_path, Redirect.post_id).where(
                Redirect.old_path.in_(keys[start : start + 500])
            )
        )
        found.update((old_path, post_id) for old_path, post_id in rows)
    return found


def find_redirect(path: str) -> Post | None:
    """The post an old path now means, if any."""
    key = normalise_path(path)
    return db.session.execute(
        select(Post).join(Redirect).where(Redirect.old_path == key)
    ).scalar_one_or_none()
