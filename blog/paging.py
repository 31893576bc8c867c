"""Places in lists from the query string: `?page=`, `?before=` and `?after=` are typed by
anyone, so they are checked here."""

from __future__ import annotations

from typing import Any

from flask import abort, request

from .content.posts import ListCursor

# Far beyond any real list (100,000 posts at one per page), and far below where an
# OFFSET overflows the database's 64-bit integers.
MAX_PAGE = 1_000_000


def page_number() -> int:
    """`?page=` as 1 .. MAX_PAGE; 404 for anything else (words, 0, -1, 10**20)."""
    raw = request.args.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(MAX_PAGE)):
        abort(404)
    page = int(raw)
    if not 1 <= page <= MAX_PAGE:
        abort(404)
    return page


def list_position() -> dict[str, Any]:
    """Where in a public list the request asks to start: `?before=` / `?after=` (cursors,
    what the list's own links use) or an old `?page=N`; 404 for anything malformed."""
    position: dict[str, Any] = {}
    for name in ("before", "after"):
        raw = request.args.get(name)
        if raw is not None:
            cursor = ListCursor.parse(raw)
            if cursor is None:
                abort(404)
            position[name] = cursor
    if "page" in request.args or not position:
        position["page"] = page_number()
    if len(position) > 1:
        abort(404)  # one place at a time: before and after, or a cursor and a page
    return position
