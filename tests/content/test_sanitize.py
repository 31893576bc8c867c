"""The sanitiser keeps harmless formatting and removes everything that can act."""

from __future__ import annotations

import pytest

from blog.content.sanitize import sanitize_html, sanitize_style

SEED_FORMATTING = [
    ('<span style="color: #ee2323;">red</span>', '<span style="color: #ee2323">red</span>'),
    (
        '<span style="background-color: #21538527;">hl</span>',
        '<span style="background-color: #21538527">hl</span>',
    ),
    (
        '<table style="width:100%; border-collapse:collapse;"><tr><td>x</td></tr></table>',
        '<table style="width: 100%; border-collapse: collapse"><tbody><tr><td>x</td></tr>'
        "</tbody></table>",
    ),
    (
        '<td style="text-align: center; height: 17px;"><b>x</b></td>',
        # A lone td is not valid outside a table, so the parser drops the element itself.
        "<b>x</b>",
    ),
    ('<h2 data-ke-size="size26">h</h2>', '<h2 data-ke-size="size26">h</h2>'),
    ("<ul>\n  <li>a</li>\n</ul>", "<ul>\n  <li>a</li>\n</ul>"),
    (
        '<a href="https://newsdao.kr" rel="dofollow">x</a>',
        '<a href="https://newsdao.kr" rel="noopener noreferrer">x</a>',
    ),
    (
        '<img src="/assets/img/a.jpg" alt="bookingtag 속보" />',
        '<img src="/assets/img/a.jpg" alt="bookingtag 속보">',
    ),
]


@pytest.mark.parametrize(("given", "expected"), SEED_FORMATTING)
def test_sanitiser_keeps_the_formatting_authors_use(given: str, expected: str) -> None:
    assert sanitize_html(given) == expected


def test_sanitiser_keeps_centred_table_cells() -> None:
    html = '<table><tr><td style="text-align: center; height: 17px;">x</td></tr></table>'
    assert '<td style="text-align: center; height: 17px">x</td>' in sanitize_html(html)


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(1)">x</a>',
        '<a href="vbscript:msgbox(1)">x</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
        '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
        "<svg><script>alert(1)</script></svg>",
        '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
        '<iframe src="https://evil.example"></iframe>',
        '<object data="x.swf"></object>',
        '<form action="https://evil.example">'
        '<button formaction="javascript:alert(1)">x</button></form>',
        '<base href="https://evil.example/">',
        '<meta http-equiv="refresh" content="0;url=https://evil.example">',
        '<div hx-get="/admin/delete" hx-trigger="load">x</div>',
        '<div data-hx-post="/admin/delete">x</div>',
        '<div hx-on:click="alert(1)">x</div>',
        "<div hx-vals='js:{a: alert(1)}'>x</div>",
        "<style>body{background:url(https://evil.example)}</style>",
        '<p style="background-image: url(javascript:alert(1))">x</p>',
        '<p style="width: expression(alert(1))">x</p>',
        '<p style="-moz-binding: url(https://evil.example/x.xml#xss)">x</p>',
        '<p style="position: fixed; top: 0; left: 0; width: 100%; height: 100%">x</p>',
        '<p style="color: red; @import url(https://evil.example)">x</p>',
        '<p style="color: r\\65 d; background: u\\72 l(x)">x</p>',
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    ],
)
def test_sanitiser_removes_what_can_run_or_escape_the_post(attack: str) -> None:
    cleaned = sanitize_html(attack).lower()
    for forbidden in ("<script", "onerror", "onload", "javascript:", "vbscript:", "data:",
                      "hx-", "<iframe", "<object", "<form", "formaction", "<base", "<meta",
                      "<style", "url(", "expression", "binding", "position", "@import",
                      "<svg", "<math"):  # fmt: skip
        assert forbidden not in cleaned, (attack, cleaned)


def test_sanitiser_keeps_safe_declarations_next_to_dangerous_ones() -> None:
    assert sanitize_style("color: red; position: absolute; font-weight: bold") == (
        "color: red; font-weight: bold"
    )


def test_negative_margins_are_dropped() -> None:
    assert sanitize_style("margin: -999px; padding: 4px") == "padding: 4px"


def test_sanitising_twice_changes_nothing() -> None:
    html = (
        '<p data-ke-size="size16"><b><span style="color: #ee2323;">a</span></b> &amp; '
        '<a href="https://x.example/?a=1&b=2">l</a></p><table style="width:100%"><tr>'
        '<td style="text-align:center">c</td></tr></table>'
    )
    once = sanitize_html(html)
    assert sanitize_html(once) == once
