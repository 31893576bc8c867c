"""Which URLs the blog follows or shows: redirect targets and feature images.

Decided as a browser decides. The WHATWG URL parser drops tabs and newlines anywhere,
strips leading and trailing controls and spaces, and reads `\\` as `/`, so `/\\t/evil`
and `/\\\\evil` both lead to another site; such spellings are refused, not repaired.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .text import has_invisible


def _has_hidden_characters(url: str) -> bool:
    # has_invisible covers the C0 and C1 controls; spaces of any kind are refused as well.
    return has_invisible(url) or any(char.isspace() for char in url)


def local_path(target: str | None) -> str | None:
    """`target` if a browser would read it as a path on this site, else None.

    Only a path that starts with exactly one `/` and holds no backslash, space or
    control character passes: `//host`, `/\\host`, `/\\t/host`, `javascript:`, `http:x`
    and ` /x` do not.
    """
    if not target or _has_hidden_characters(target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def image_url_problem(url: str) -> str | None:
    """Why `url` cannot be a post's feature image, or None when it can.

    Allowed: the media store and other paths on this site, and https: addresses. No other
    scheme (javascript:, data:, plain http:, which browsers block on an https page).
    """
    if not url:
        return None
    if _has_hidden_characters(url) or "\\" in url:
        return "hidden"
    if local_path(url) is not None:
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() == "https" and parts.netloc and url.lower().startswith("https://"):
        return None
    return "scheme"


MAX_BASE_URL_LENGTH = 200


def base_url_problem(url: str) -> str | None:
    """Why `url` cannot be the blog's public base URL, or None when it can (empty: none set).

    An http: or https: origin with an optional path, nothing else: no user name, query or
    fragment, since every canonical link, feed and sitemap address is built by appending a
    path to it.
    """
    if not url:
        return None
    if len(url) > MAX_BASE_URL_LENGTH:
        return "long"
    if _has_hidden_characters(url) or "\\" in url:
        return "hidden"
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not url.lower().startswith(
        ("http://", "https://")
    ):
        return "scheme"
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return "form"
    if not parts.hostname or "@" in parts.netloc or parts.query or parts.fragment:
        return "form"
    if "?" in url or "#" in url:
        return "form"
    return None
