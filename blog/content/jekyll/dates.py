"""Dates as they appear in Jekyll file names and front matter, normalised to aware UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

# Jekyll's own pattern for post file names: YYYY-MM-DD-slug.ext (the year may be 2-4 digits).
FILENAME_DATE = re.compile(r"^(?P<date>\d{2,4}-\d{1,2}-\d{1,2})-(?P<slug>.*)(?P<ext>\.[^.]+)$")

# The fraction takes all its digits (?!\d): given back one by one to `rest`, each would
# make `rest` read the line again, in quadratic time when the match fails at a newline.
_DATE_TIME = re.compile(
    r"^\s*(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+)(?!\d))?)?)?"
    r"(?P<rest>.*)$"
)
_OFFSET = re.compile(
    r"(?:^|\s|(?<=\d))(?P<offset>Z|UTC|GMT|[+-]\d{2}:?\d{2}|[+-]\d{2}(?!\d))\s*$", re.I
)


class DateError(ValueError):
    """A date Jekyll would also refuse."""


def _offset(text: str) -> tzinfo:
    if text.upper() in {"Z", "UTC", "GMT"}:
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_jekyll_date(value: object, site_zone: tzinfo) -> tuple[datetime, list[str]]:
    """Parse a front-matter or file-name date; a value without offset is in `site_zone`.

    Returns the moment in UTC and warnings for parts that were ignored.
    """
    warnings: list[str] = []
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=site_zone)
        return moment.astimezone(UTC), warnings
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=site_zone).astimezone(UTC), []
    text = str(value).strip().strip("'\"")
    match = _DATE_TIME.match(text)
    if not match:
        raise DateError(f"unreadable date {text!r}")
    rest = match["rest"].strip()
    zone: tzinfo = site_zone
    offset = _OFFSET.search(rest)
    if offset:
        zone = _offset(offset["offset"])
        rest = rest[: offset.start("offset")].strip()
    if rest:
        # e.g. "2023-01-29 18:30:22 2023 -0800": Ruby's Time.parse skips the stray year.
        warnings.append(f"ignored {rest!r} in date {text!r}")
    fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
    try:
        moment = datetime(
            int(match["year"]), int(match["month"]), int(match["day"]),
            int(match["hour"] or 0), int(match["minute"] or 0), int(match["second"] or 0),
            int(fraction), tzinfo=zone,
        )  # fmt: skip
    except ValueError as error:
        raise DateError(f"impossible date {text!r}: {error}") from error
    return moment.astimezone(UTC), warnings
