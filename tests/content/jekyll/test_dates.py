"""Every date shape seen in real Jekyll archives."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from blog.content.jekyll.dates import FILENAME_DATE, DateError, parse_jekyll_date

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-12-22", datetime(2022, 12, 21, 15, 0, tzinfo=UTC)),
        ("2023-01-03 01:00:00", datetime(2023, 1, 2, 16, 0, tzinfo=UTC)),
        ("2024-05-20 10:20:00 +0900", datetime(2024, 5, 20, 1, 20, tzinfo=UTC)),
        ("2015-10-20 11:59:00-0400", datetime(2015, 10, 20, 15, 59, tzinfo=UTC)),
        ("'2009-06-28 21:56:33 +0100'", datetime(2009, 6, 28, 20, 56, 33, tzinfo=UTC)),
        ("2022-11-06 13:22:36.609 +0000", datetime(2022, 11, 6, 13, 22, 36, 609000, tzinfo=UTC)),
        ("2024-01-01 10:00:00 +00:00", datetime(2024, 1, 1, 10, 0, tzinfo=UTC)),
        ("2024-01-01T10:00:00Z", datetime(2024, 1, 1, 10, 0, tzinfo=UTC)),
        ("2024-1-5 9:05", datetime(2024, 1, 5, 0, 5, tzinfo=UTC)),
        (date(2022, 12, 22), datetime(2022, 12, 21, 15, 0, tzinfo=UTC)),
        (datetime(2022, 12, 22, 9, 0), datetime(2022, 12, 22, 0, 0, tzinfo=UTC)),
    ],
)
def test_dates_are_normalised_to_utc(value: object, expected: datetime) -> None:
    moment, warnings = parse_jekyll_date(value, SEOUL)
    assert moment == expected and warnings == []


def test_stray_tokens_are_ignored_with_a_warning() -> None:
    moment, warnings = parse_jekyll_date("2023-01-29 18:30:22 2023 -0800", SEOUL)
    assert moment == datetime(2023, 1, 30, 2, 30, 22, tzinfo=UTC)
    assert "2023" in warnings[0]


@pytest.mark.parametrize("value", ["yesterday", "2024-02-30", ""])
def test_impossible_dates_are_errors(value: str) -> None:
    with pytest.raises(DateError):
        parse_jekyll_date(value, SEOUL)


def test_file_name_pattern_gives_date_and_slug() -> None:
    match = FILENAME_DATE.match("2024-07-22-한미-동맹 [속보].md")
    assert match is not None
    assert (match["date"], match["slug"], match["ext"]) == ("2024-07-22", "한미-동맹 [속보]", ".md")
    assert FILENAME_DATE.match("about.md") is None
