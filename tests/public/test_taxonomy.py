"""Category and tag pages."""

from __future__ import annotations

from urllib.parse import quote

from flask.testing import FlaskClient

from tests.conftest import MakePost


def test_category_page_lists_only_its_posts(client: FlaskClient, make_post: MakePost) -> None:
    make_post(title="In news", categories=("News",))
    make_post(title="Elsewhere", categories=("Sports",))
    make_post(title="Draft news", categories=("News",), status="draft")
    html = client.get("/category/news").text
    assert "In news" in html and "Elsewhere" not in html and "Draft news" not in html
    assert '<span class="list-kind">Category</span>' in html
    assert "<title>News · Test Blog</title>" in html


def test_tag_page_with_hangul_slug(client: FlaskClient, make_post: MakePost) -> None:
    make_post(title="Tagged", tags=("웹 개발",))
    make_post(title="Not tagged")
    html = client.get(f"/tag/{quote('웹-개발')}").text
    assert "Tagged" in html and "Not tagged" not in html


def test_category_pagination_and_more_button(client: FlaskClient, make_post: MakePost) -> None:
    for number in range(5):
        make_post(title=f"News {number}", categories=("News",))
    html = client.get("/category/news").text
    assert 'hx-get="/category/news?page=2"' in html
    fragment = client.get("/category/news?page=2", headers={"HX-Request": "true"})
    assert fragment.text.count('class="post-card"') == 2 and "<html" not in fragment.text


def test_unknown_category_and_tag_are_404(client: FlaskClient) -> None:
    assert client.get("/category/nothing").status_code == 404
    assert client.get("/tag/nothing").status_code == 404
