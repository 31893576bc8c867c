"""Page numbers from the query string: `?page=` is typed by anyone, so it is checked here."""

from __future__ import annotations

from flask import abort, request

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
