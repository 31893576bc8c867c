"""Markdown with the kramdown features Jekyll authors use, and plain-text helpers."""

from __future__ import annotations

from blog.content.markup import first_paragraph_text, plain_text, render_body, truncate_text


def test_markdown_tables_render() -> None:
    html = render_body("| a | b |\n|---|---|\n| 1 | 2 |\n", "markdown")
    assert "<table>" in html and "<td>1</td>" in html


def test_fenced_code_is_highlighted_with_classes_and_escapes_html() -> None:
    html = render_body("```python\nprint('<b>')\n```\n", "markdown")
    assert '<div class="highlight"><pre><span></span><code>' in html
    assert '<span class="nb">print</span>' in html
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert "style=" not in html  # colours come from static/css/highlight.css


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


def test_first_paragraph_skips_blocks_without_text_and_headings() -> None:
    html = '<p><img src="/a.jpg"></p><h2>Heading</h2><p>Body text.</p>'
    assert first_paragraph_text(html) == "Body text."


def test_the_excerpt_of_a_tistory_post_is_its_first_paragraph_not_its_heading() -> None:
    html = (
        '<h2 data-ke-size="size26">부산 해운대 빛축제 개막</h2>'
        '<p data-ke-size="size16">&nbsp;</p><p data-ke-size="size16"> &nbsp; \u200b</p>'
        '<figure class="imageblock"><img src="/a.jpg">'
        "<figcaption>해운대 해수욕장</figcaption></figure>"
        "<table><tr><td><p>표 안의 글</p></td></tr></table>"
        "<blockquote><p>인용한 말</p></blockquote>"
        '<p data-ke-size="size16">부산 해운대에서<br>빛축제가 열렸다.</p><p>둘째 문단.</p>'
    )
    assert first_paragraph_text(html) == "부산 해운대에서 빛축제가 열렸다."


def test_a_body_without_paragraphs_gives_its_first_text() -> None:
    assert first_paragraph_text("<h2>Only a heading</h2><ul><li>a list</li></ul>") == (
        "Only a heading"
    )
    assert first_paragraph_text("<div>Text in a div<br>and more</div>") == "Text in a div"
    assert first_paragraph_text('<p>&nbsp;</p><p><img src="/a.jpg"></p>') == ""
    assert first_paragraph_text("") == ""


def test_the_excerpt_is_cut_and_looks_only_at_the_opening_of_the_body() -> None:
    from blog.content.markup import EXCERPT_SCAN_LIMIT

    long_paragraph = "<p>" + "단어 " * 500 + "</p>"
    assert len(first_paragraph_text(long_paragraph)) <= 281
    late = "<h2>제목</h2>" + "<p>&nbsp;</p>" * (EXCERPT_SCAN_LIMIT // 13) + "<p>늦은 문단</p>"
    assert first_paragraph_text(late) == "제목"


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
