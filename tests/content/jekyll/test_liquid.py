"""Liquid in post bodies: resolved where the meaning is known, otherwise kept and reported."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from blog.content.jekyll.liquid import LiquidContext, render_liquid


def render(body: str, **context: object) -> tuple[str, list[str]]:
    liquid = LiquidContext(**context)  # type: ignore[arg-type]
    return render_liquid(body, liquid), liquid.warnings


def test_raw_blocks_are_kept_verbatim() -> None:
    out, warnings = render("{% raw %}{{ site.url }} {% if x %}{% endraw %}")
    assert out == "{{ site.url }} {% if x %}" and warnings == []


def test_highlight_becomes_an_escaped_code_block() -> None:
    out, _ = render("{% highlight ruby linenos %}\nputs '<b>'\n{% endhighlight %}")
    assert "<pre><code class=\"language-ruby\">puts '&lt;b&gt;'</code></pre>" in out


def test_post_url_resolves_to_the_new_address() -> None:
    out, warnings = render(
        "[a]({% post_url 2010-07-21-name %}) [b]({% post_url /sub/2010-07-21-name %})",
        resolve_post_url=lambda name: "/posts/name" if name.endswith("2010-07-21-name") else None,
    )
    assert out == "[a](/posts/name) [b](/posts/name)" and warnings == []


def test_unknown_post_url_is_kept_and_reported() -> None:
    out, warnings = render("{% post_url 1999-01-01-gone %}")
    assert out == "{% post_url 1999-01-01-gone %}" and "no such post" in warnings[0]


def test_site_url_baseurl_and_relative_url_resolve_to_the_new_root() -> None:
    out, warnings = render(
        '{{ site.url }}{{ site.baseurl }}/a.png {{ "/assets/b.png" | relative_url }} '
        "{{ 'c.png' | absolute_url }} {{- site.baseurl -}}"
    )
    assert out == "/a.png /assets/b.png /c.png " and warnings == []


def test_page_and_site_values_resolve_from_front_matter_and_config() -> None:
    out, warnings = render(
        "# {{ page.title }} by {{page.author}} · {{ site.email }} · "
        "{{ site.author.name | upcase }}",
        page={"title": "제목", "author": "홍길동"},
        site={"email": "desk@example.com", "author": {"name": "kim"}},
    )
    assert out == "# 제목 by 홍길동 · desk@example.com · KIM" and warnings == []


def test_date_filters_use_the_site_zone() -> None:
    moment = datetime(2024, 7, 21, 15, 30, tzinfo=UTC)
    out, warnings = render(
        "{{ page.date | date_to_string }} / {{ page.date | date: '%Y년 %m월 %d일' }}",
        page={"date": moment},
        zone=ZoneInfo("Asia/Seoul"),
    )
    assert out == "22 Jul 2024 / 2024년 07월 22일" and warnings == []


def test_unknown_filters_and_values_are_left_as_written() -> None:
    body = "{{ page.title | markdownify }} {{ page.missing }} {{ site.posts }}"
    out, warnings = render(body, page={"title": "x"}, site={"posts": [1, 2]})
    assert out == body and len(warnings) == 3


def test_other_liquid_is_left_visible_and_reported() -> None:
    body = "{% include note.html %}\n{{ site.data.menu }}\n{% for p in site.posts %}{% endfor %}"
    out, warnings = render(body)
    assert out == body
    assert any("site.data.menu" in w for w in warnings)
    assert any("{% for %}" in w and "{% include %}" in w for w in warnings)
