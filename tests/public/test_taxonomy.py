"""Category and tag pages."""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient

from blog.content import taxonomy
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
    more = re.search(r'hx-get="(/category/news\?before=[0-9-]+)"', html)
    assert more is not None
    fragment = client.get(more.group(1), headers={"HX-Request": "true"})
    assert fragment.text.count('class="post-card"') == 2 and "<html" not in fragment.text
    assert client.get("/category/news?page=2").text.count('class="post-card"') == 2


def test_unknown_category_and_tag_are_404(client: FlaskClient) -> None:
    assert client.get("/category/nothing").status_code == 404
    assert client.get("/tag/nothing").status_code == 404


def _rename(app: Flask, kind: str, old: str, new: str) -> None:
    with app.app_context():
        term = taxonomy.find_by_name(kind, old)
        assert term is not None
        taxonomy.rename_term(term, new, None)


def test_a_renamed_category_answers_its_old_address_with_301(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    for number in range(4):
        make_post(title=f"News {number}", categories=("News",))
    _rename(app, "category", "News", "국제")
    moved = client.get("/category/news?page=2")
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"/category/{quote('국제')}?page=2"
    assert client.get(moved.headers["Location"]).status_code == 200
    fragment = client.get("/category/news?page=2", headers={"HX-Request": "true"})
    assert fragment.status_code == 301  # htmx follows it like a browser


def test_a_renamed_tag_answers_its_old_address_with_301(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="Tagged", tags=("웹 개발",))
    _rename(app, "tag", "웹 개발", "Web")
    moved = client.get(f"/tag/{quote('웹-개발')}")
    assert (moved.status_code, moved.headers["Location"]) == (301, "/tag/web")


def test_an_old_address_of_a_category_only_drafts_use_is_404(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="Draft", categories=("Embargo",), status="draft")
    _rename(app, "category", "Embargo", "Merger")
    assert client.get("/category/embargo").status_code == 404
