"""Jekyll's permalink rules, so old URLs can be redirected."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from blog.content.jekyll.permalinks import jekyll_permalink, jekyll_slugify, permalink_template

SEOUL = ZoneInfo("Asia/Seoul")
# 2024-07-21 16:30 UTC is 2024-07-22 01:30 in Seoul: the URL takes the site's local date.
MOMENT = datetime(2024, 7, 21, 16, 30, tzinfo=UTC)


def permalink(style: str | None, categories: list[str], slug: str = "한미-동맹") -> str:
    return jekyll_permalink(
        permalink_template(style),
        slug=slug,
        categories=categories,
        published_at=MOMENT,
        site_zone=SEOUL,
    )


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        (None, "/news/2024/07/22/한미-동맹.html"),
        ("date", "/news/2024/07/22/한미-동맹.html"),
        ("pretty", "/news/2024/07/22/한미-동맹/"),
        ("ordinal", "/news/2024/204/한미-동맹.html"),
        ("none", "/news/한미-동맹.html"),
        ("/:categories/:title/", "/news/한미-동맹/"),
        ("/:title", "/한미-동맹"),
        ("/blog/:year/:title/", "/blog/2024/한미-동맹/"),
        ("/:year/:i_month/:i_day/:short_year/:hour:minute/:title", "/2024/7/22/24/0130/한미-동맹"),
    ],
)
def test_permalink_styles(style: str | None, expected: str) -> None:
    assert permalink(style, ["News"]) == expected


def test_categories_are_lower_cased_and_deduplicated() -> None:
    assert permalink(None, ["Java", "java", "Web Dev"]) == "/java/web dev/2024/07/22/한미-동맹.html"


def test_no_categories_leaves_no_empty_segment() -> None:
    assert permalink(None, []) == "/2024/07/22/한미-동맹.html"


def test_title_placeholder_uses_jekyll_pretty_slugify() -> None:
    assert jekyll_slugify("[Java] 자바 기초 (1)", "pretty", cased=True) == "Java-자바-기초-(1)"
    assert permalink("/:title/", [], slug="[Java] 자바 기초") == "/Java-자바-기초/"
    assert permalink("/:slug/", [], slug="Hello World") == "/hello-world/"
