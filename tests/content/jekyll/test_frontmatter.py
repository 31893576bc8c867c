"""Front matter as Jekyll archives really contain it."""

from __future__ import annotations

import tracemalloc

import pytest

from blog.content.jekyll.frontmatter import (
    FrontMatterError,
    load_yaml,
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


def alias_bomb(levels: int = 7, aliases: int = 10) -> str:
    """Anchors nested `levels` deep, each a list of `aliases` aliases of the one before."""
    lines = ["title: bomb", 'a0: &a0 ["lol"]']
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * aliases)}]")
    return "\n".join(lines)


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    bomb = alias_bomb()
    assert len(bomb.encode()) < 450  # ten million values once expanded
    tracemalloc.start()
    try:
        with pytest.raises(FrontMatterError, match="alias"):
            parse_front_matter(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024  # expanded, it took 2 GB


def test_merge_key_bombs_and_recursive_aliases_are_refused() -> None:
    lines = ["b0: &b0 {k: v}"]
    for level in range(1, 8):
        merges = ", ".join([f"*b{level - 1}"] * 10)
        lines.append(f"b{level}: &b{level} {{<<: [{merges}], k{level}: v}}")
    with pytest.raises(FrontMatterError, match="alias"):
        parse_front_matter("\n".join(lines))
    with pytest.raises(FrontMatterError, match="inside"):
        parse_front_matter("a: &a [x, *a]")


def test_modest_aliases_are_fine() -> None:
    data, warnings = parse_front_matter(
        "base: &base {layout: post, author: me}\none: *base\ntwo:\n  <<: *base\n  toc: true"
    )
    assert data["one"] == {"layout": "post", "author": "me"}
    assert data["two"] == {"layout": "post", "author": "me", "toc": True} and not warnings
    # Aliases may add up to MAX_ALIAS_VALUES values; a document without them has no bound.
    assert len(parse_front_matter("tags: [" + ", ".join(["t"] * 20_000) + "]")[0]["tags"]) == 20_000
    assert len(load_yaml("a: &a [1, 2]\nb: [" + ", ".join(["*a"] * 3000) + "]")["b"]) == 3000
    with pytest.raises(FrontMatterError):
        load_yaml("a: &a [1, 2]\nb: [" + ", ".join(["*a"] * 4000) + "]")


def test_an_aliased_long_text_is_bounded_by_its_characters() -> None:
    text = "x" * 100_000
    with pytest.raises(FrontMatterError, match="characters"):
        parse_front_matter(f"a: &a {text}\nb: [{', '.join(['*a'] * 20)}]")
