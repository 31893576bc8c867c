"""Markdown with the kramdown features Jekyll authors use, and plain-text helpers."""

from __future__ import annotations

from blog.content.markup import first_paragraph_text, plain_text, render_body, truncate_text


def test_markdown_tables_render() -> None:
    html = render_body("| a | b |\n|---|---|\n| 1 | 2 |\n", "markdown")
    assert "<table>" in html and "<td>1</td>" in html


def test_fenced_code_keeps_its_language_and_escapes_html() -> None:
    html = render_body("```python\nprint('<b>')\n```\n", "markdown")
    assert '<code class="language-python">' in html
    assert "&lt;b&gt;" in html


def test_footnotes_render() -> None:
    html = render_body("Text[^1].\n\n[^1]: The note.\n", "markdown")
    assert 'class="footnote-ref"' in html and "The note." in html


def test_attribute_lists_set_classes_and_ids() -> None:
    html = render_body("A paragraph\n{: .lead #intro}\n", "markdown")
    assert 'class="lead"' in html and 'id="intro"' in html


def test_markdown_inside_html_blocks_with_markdown_attribute() -> None:
    html = render_body('<div markdown="1">\n*emphasis*\n</div>\n', "markdown")
    assert "<em>emphasis</em>" in html


def test_definition_lists_and_abbreviations() -> None:
    html = render_body("Term\n: Definition\n\nHTML is fun\n\n*[HTML]: HyperText\n", "markdown")
    assert "<dt>Term</dt>" in html and "<dd>Definition</dd>" in html
    assert '<abbr title="HyperText">HTML</abbr>' in html


def test_table_of_contents_anchors_keep_korean_text() -> None:
    html = render_body("[TOC]\n\n## 한미 동맹\n\n## 두 번째\n", "markdown")
    assert '<h2 id="한미-동맹">' in html
    assert 'href="#한미-동맹"' in html
    assert 'href="#두-번째"' in html


def test_raw_html_in_markdown_is_kept_then_sanitised() -> None:
    html = render_body(
        '<p><span style="color: #ee2323;">red</span><script>x()</script></p>', "markdown"
    )
    assert '<span style="color: #ee2323">red</span>' in html
    assert "script" not in html


def test_html_source_is_sanitised_not_rendered_as_markdown() -> None:
    html = render_body("<p>*not emphasis*</p><img src=x onerror=alert(1)>", "html")
    assert "<p>*not emphasis*</p>" in html
    assert "onerror" not in html


def test_first_paragraph_skips_blocks_without_text() -> None:
    html = '<p><img src="/a.jpg"></p><h2>Heading</h2><p>Body text.</p>'
    assert first_paragraph_text(html) == "Heading"


def test_truncate_text_cuts_at_a_word_boundary() -> None:
    text = "word " * 100
    cut = truncate_text(text, 50)
    assert len(cut) <= 51 and cut.endswith("…") and not cut.endswith(" …")


def test_plain_text_decodes_entities_and_drops_tags() -> None:
    assert plain_text("It&#8217;s <b>bold</b> &amp; fine") == "It’s bold & fine"


def test_plain_fields_full_of_unclosed_tags_are_cut_before_parsing() -> None:
    import resource

    from blog.content.markup import MAX_PLAIN_TEXT_INPUT, plain_text

    started = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    text = plain_text("<a " * 300_000)
    used = resource.getrusage(resource.RUSAGE_SELF).ru_utime - started
    assert len(text) <= MAX_PLAIN_TEXT_INPUT
    # Uncut, 900,000 characters would take hours; cut, about a second at most.
    assert used < 60, used
