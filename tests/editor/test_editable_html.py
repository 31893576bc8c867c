"""POST /admin/posts/editable-html: the body as the visual editor opens it, sanitised by the
server, so the browser never parses what the sanitiser drops."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import Login, post_form, token_from

URL = "/admin/posts/editable-html"


def editable(client: FlaskClient, body: str, source_format: str = "html") -> str:
    response = post_form(client, URL, {"body": body, "format": source_format})
    assert response.status_code == 200, response.text
    assert response.mimetype == "application/json"
    return str(response.json["html"])


def test_html_comes_back_as_readers_get_it(client: FlaskClient, login: Login) -> None:
    login("author")
    html = editable(
        client,
        '<p style="text-align: center;"><b><span style="color: #ee2323;">빨간 글</span></b>'
        '<img src="/missing.png" alt="" onerror="this.style.display=\'none\'"></p>'
        '<script>alert(1)</script><a href="javascript:alert(1)" onclick="x()">링크</a>'
        '<p hx-get="/admin" data-ke-size="size16">문단</p>',
    )
    assert '<b><span style="color: #ee2323">빨간 글</span></b>' in html
    assert 'style="text-align: center"' in html
    assert 'data-ke-size="size16"' in html
    for dropped in ("onerror", "<script", "alert", "javascript:", "onclick", "hx-get"):
        assert dropped not in html


def test_markdown_becomes_html_source_without_what_rendering_adds(
    client: FlaskClient, login: Login
) -> None:
    login("author")
    headings = "\n\n".join(f"## 소제목 {n}\n\n문단 {n}." for n in range(1, 6))
    source = (
        f"{headings}\n\n```python\nprint('안녕')\n```\n\n**굵게**와 [링크](https://example.com)"
    )
    html = editable(client, source, "markdown")
    assert "<h2" in html and "소제목 5</h2>" in html
    assert "<strong>굵게</strong>" in html and 'href="https://example.com"' in html
    assert "[TOC]" not in editable(client, "[TOC]\n\n## 제목\n\n본문", "markdown")
    # Publishing adds these on every render; they do not belong in the source.
    assert 'class="toc"' not in html and 'class="highlight"' not in html
    assert "<pre><code class=\"language-python\">print('안녕')" in html.replace("&#39;", "'")


def test_hostile_values_never_fail(client: FlaskClient, login: Login) -> None:
    login("author")
    for value in ("", "bogus", "html\t", "\x00", "ＨＴＭＬ"):
        assert editable(client, "*기울임*", value) == "<p><em>기울임</em></p>"
    response = post_form(client, URL, {"body": "x" * 3_000_000, "format": "html"})
    assert response.status_code == 413
    assert "longer than" in response.json["problem"]
    assert editable(client, "", "html") == ""


def test_it_needs_the_csrf_token_and_a_signed_in_writer(client: FlaskClient, login: Login) -> None:
    client.csrf_token = token_from(client.get("/login").text)  # type: ignore[attr-defined]
    response = post_form(client, URL, {"body": "<p>x</p>", "format": "html"})
    assert response.status_code in {302, 303, 401}
    assert not response.is_json
    login("author")
    response = client.post(URL, data={"body": "<p>x</p>", "format": "html"})
    assert response.status_code == 400
    assert not response.is_json
