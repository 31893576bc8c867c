"""One URL, page or fragment: the small render() helper every view uses."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template
from htmx_flask import request
from jinja2_fragments.flask import render_block


def is_fragment_request() -> bool:
    """An htmx request that wants a piece of the page (not a boosted or history load)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template: str, block: str | None = None, status: int = 200, **context: Any) -> Response:
    """Whole page for a normal request; only `block` for an htmx request aimed at it."""
    if block and is_fragment_request():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    # Caches must keep the page and the fragment apart.
    response.vary.add("HX-Request")
    return response


def render_fragment(template: str, block: str, status: int = 200, **context: Any) -> Response:
    """Only `block`, whoever asks: for endpoints that exist to feed the page's scripts."""
    response = make_response(render_block(template, block, **context), status)
    response.vary.add("HX-Request")
    return response
