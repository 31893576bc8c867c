from __future__ import annotations

import unicodedata

from blog.content.slugs import slugify, title_from_slug, unique_slug


def test_slug_keeps_hangul() -> None:
    assert (
        slugify("한·미 동맹 지지 대통령실 초당적 의지 공개!")
        == "한-미-동맹-지지-대통령실-초당적-의지-공개"
    )


def test_slug_is_lower_case_and_hyphenated() -> None:
    assert slugify("  Hello, World: A+B  ") == "hello-world-a-b"


def test_slug_normalises_decomposed_hangul() -> None:
    decomposed = unicodedata.normalize("NFD", "한글 제목")
    assert slugify(decomposed) == "한글-제목"


def test_slug_replaces_underscores_and_brackets() -> None:
    assert slugify("[Java] my_first post") == "java-my-first-post"


def test_unique_slug_counts_up() -> None:
    taken = {"a", "a-2"}
    assert unique_slug("a", taken.__contains__) == "a-3"
    assert unique_slug("", taken.__contains__) == "post"


def test_title_from_slug() -> None:
    assert title_from_slug("hello-world") == "Hello World"
    assert title_from_slug("한미-동맹") == "한미 동맹"
