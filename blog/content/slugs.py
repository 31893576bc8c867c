"""Slugs that keep Hangul (and every other script) readable in URLs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

# Letters, marks and digits of any script survive; everything else becomes a hyphen.
_NOT_SLUG_CHARS = re.compile(r"[\W_]+")
MAX_SLUG_LENGTH = 120


def slugify(text: str, max_length: int = MAX_SLUG_LENGTH) -> str:
    """Lower-case, hyphen-separated slug; Hangul kept as Hangul, NFC-normalised."""
    text = unicodedata.normalize("NFC", str(text)).lower()
    slug = _NOT_SLUG_CHARS.sub("-", text).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rstrip("-")
    return slug


def unique_slug(base: str, is_taken: Callable[[str], bool], fallback: str = "post") -> str:
    """`base`, or `base-2`, `base-3`, ... whichever is free first."""
    base = base or fallback
    candidate, counter = base, 2
    while is_taken(candidate):
        candidate = f"{base}-{counter}"
        counter += 1
    return candidate


def title_from_slug(slug: str) -> str:
    """'hello-world' -> 'Hello World', as Jekyll titleizes a slug when a post has no title."""
    return " ".join(word[:1].upper() + word[1:] for word in slug.split("-") if word)
