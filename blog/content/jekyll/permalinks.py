"""The URL Jekyll gave a post, so the old address can redirect to the new one."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

# Jekyll's built-in permalink styles (jekyll/lib/jekyll/utils.rb, permalink_style).
PERMALINK_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
DEFAULT_PERMALINK = "date"

# Jekyll's slugify "pretty" mode keeps these; every other run of characters becomes "-".
_NOT_PRETTY = re.compile(r"[^\w._~!$&'()+,;=@]+")
_NOT_DEFAULT = re.compile(r"[\W_]+")
_PLACEHOLDER = re.compile(r":(\w+)")
_REPEATED_SLASHES = re.compile(r"/{2,}")


def jekyll_slugify(text: str, mode: str = "default", cased: bool = False) -> str:
    pattern = _NOT_PRETTY if mode == "pretty" else _NOT_DEFAULT
    slug = pattern.sub("-", text).strip("-")
    return slug if cased else slug.lower()


def permalink_template(site_permalink: str | None) -> str:
    """A style name (`pretty`) or an explicit template, as `_config.yml` gives it."""
    value = (site_permalink or DEFAULT_PERMALINK).strip()
    return PERMALINK_STYLES.get(value, value)


def jekyll_permalink(
    template: str,
    *,
    slug: str,
    categories: list[str],
    published_at: datetime,
    site_zone: tzinfo,
    output_ext: str = ".html",
) -> str:
    """Expand a Jekyll permalink template for one post.

    Dates are taken in the site's time zone, as Jekyll does; `:categories` are lower-cased
    and de-duplicated, as Jekyll's UrlDrop does.
    """
    local = published_at.astimezone(site_zone)
    seen: list[str] = []
    for category in categories:
        lowered = str(category).lower()
        if lowered not in seen:
            seen.append(lowered)
    iso_year, iso_week, _ = local.isocalendar()
    values = {
        "year": f"{local.year:04d}",
        "short_year": local.strftime("%y"),
        "month": f"{local.month:02d}",
        "i_month": str(local.month),
        "short_month": local.strftime("%b"),
        "long_month": local.strftime("%B"),
        "day": f"{local.day:02d}",
        "i_day": str(local.day),
        "y_day": local.strftime("%j"),
        "hour": f"{local.hour:02d}",
        "minute": f"{local.minute:02d}",
        "second": f"{local.second:02d}",
        "week": f"{iso_week:02d}",
        "w_year": str(iso_year),
        "short_day": local.strftime("%a"),
        "long_day": local.strftime("%A"),
        "title": jekyll_slugify(slug, "pretty", cased=True),
        "slug": jekyll_slugify(slug),
        "name": jekyll_slugify(slug),
        "categories": "/".join(seen),
        "output_ext": output_ext,
        "collection": "posts",
    }
    expanded = _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), template)
    return _REPEATED_SLASHES.sub("/", "/" + expanded)
