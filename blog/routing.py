"""URL converters: a path part that cannot name a row is a 404, never a database error."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import BaseConverter, IntegerConverter

# SQLite and PostgreSQL keys are 64-bit; a larger number in a URL names nothing.
MAX_ID = 2**63 - 1


class RowIdConverter(IntegerConverter):
    """`<int:...>` limited to what a database key can hold."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class PostKeyConverter(BaseConverter):
    """A post id, or `new` for a post not saved yet."""

    regex = r"new|[0-9]{1,18}"


def form_id(value: str | None) -> int | None:
    """A row id sent in a form field, or None for anything that cannot be one."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def register(app: Flask) -> None:
    """Before the blueprints: their rules are bound with these converters."""
    app.url_map.converters["int"] = RowIdConverter
    app.url_map.converters["post_key"] = PostKeyConverter
