"""Front matter as Jekyll archives really contain it."""

from __future__ import annotations

import pytest

from blog.content.jekyll.frontmatter import (
    FrontMatterError,
    normalise_text,
    parse_front_matter,
    split_front_matter,
)


def test_bom_and_crlf_are_normalised() -> None:
    assert normalise_text("\ufeff---\r\ntitle: a\r\n---\rbody\r\n") == "---\ntitle: a\n---\nbody\n"


def test_split_front_matter_and_body() -> None:
    yaml_text, body, warnings = split_front_matter("---\ntitle: a\n---\n\nbody\n")
    assert yaml_text == "title: a" and body == "\nbody\n" and warnings == []


def test_blank_lines_before_front_matter_are_recovered_with_a_warning() -> None:
    yaml_text, body, warnings = split_front_matter("\n\n---\ntitle: a\n---\nbody")
    assert yaml_text == "title: a" and body == "body"
    assert "blank line" in warnings[0]


def test_no_front_matter_means_all_body() -> None:
    assert split_front_matter("# Just markdown\n") == (None, "# Just markdown\n", [])


def test_unclosed_front_matter_is_read_as_body_with_a_warning() -> None:
    yaml_text, body, warnings = split_front_matter("---\ntitle: a\nbody")
    assert yaml_text is None and "never closed" in warnings[0]


def test_empty_front_matter_block() -> None:
    yaml_text, _body, _ = split_front_matter("---\n---\nbody")
    assert parse_front_matter(yaml_text) == ({}, [])


def test_dates_stay_strings_whatever_their_shape() -> None:
    data, _ = parse_front_matter("date: 2022-12-22\nupdated: 2023-01-03 01:00:00\n")
    assert data == {"date": "2022-12-22", "updated": "2023-01-03 01:00:00"}


def test_unquoted_title_starting_with_a_bracket_is_recovered() -> None:
    data, warnings = parse_front_matter("title: [파이썬] 10951번: A+B - 4\ncategories: Base\n")
    assert data["title"] == "[파이썬] 10951번: A+B - 4"
    assert data["categories"] == "Base"
    assert "title" in warnings[0] and "not valid YAML" in warnings[0]


def test_colon_inside_an_unquoted_title_is_recovered() -> None:
    data, warnings = parse_front_matter("title: Java: the good parts\ntags: [a, b]\n")
    assert data == {"title": "Java: the good parts", "tags": ["a", "b"]}
    assert warnings


def test_tab_after_a_value_is_recovered() -> None:
    data, _ = parse_front_matter("title: x\ncategories: Base\t\ntags:\n\t- a\n")
    assert data["categories"] == "Base"


def test_hopeless_yaml_falls_back_to_plain_pairs() -> None:
    data, warnings = parse_front_matter('title: "unclosed\ncategories:\n  - a\n  - b\n')
    assert data == {"title": "unclosed", "categories": ["a", "b"]}
    assert "line by line" in warnings[0]


def test_front_matter_that_is_not_a_mapping_is_an_error() -> None:
    with pytest.raises(FrontMatterError):
        parse_front_matter("- a\n- b\n")
