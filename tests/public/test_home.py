"""The home page: newest first, plain pagination links and an HTMX "more posts" fragment."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import escape, unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from blog.auth.accounts import create_user
from blog.database import writing
from blog.extensions import db
from blog.models import Role
from tests.conftest import Login, MakePost


def make_posts(make_post: MakePost, count: int) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for number in range(count):
        make_post(title=f"Post {number}", published_at=start + timedelta(days=number))


def test_empty_blog_says_so(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200 and "No posts yet." in response.text


def test_home_lists_posts_newest_first_with_date_categories_and_excerpt(
    client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="Older", published_at=datetime(2024, 1, 1, tzinfo=UTC))
    make_post(
        title="Newer",
        published_at=datetime(2024, 7, 21, 16, 0, tzinfo=UTC),
        categories=("News",),
        excerpt="The excerpt.",
        feature_image="/media/x/cover.jpg",
    )
    html = client.get("/").text
    assert html.index("Newer") < html.index("Older")
    assert '<time datetime="2024-07-22T01:00+09:00">July 22, 2024</time>' in html  # site zone
    assert '<a class="post-category" href="/category/news">News</a>' in html
    assert "The excerpt." in html
    assert '<img src="/media/x/cover.jpg"' in html


def test_list_falls_back_to_feature_text_then_first_paragraph(
    client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="A", feature_text="Feature text here.")
    make_post(title="B", source="First paragraph.\n\nSecond paragraph.")
    html = client.get("/").text
    assert "Feature text here." in html and "First paragraph." in html
    assert "Second paragraph." not in html


def test_drafts_scheduled_and_unlisted_posts_are_not_listed(
    client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="Visible")
    make_post(title="A draft", status="draft")
    make_post(title="Later", status="scheduled", published_at=datetime(2099, 1, 1, tzinfo=UTC))
    make_post(title="Unlisted", status="unlisted")
    make_post(title="Due", status="scheduled", published_at=datetime(2020, 1, 1, tzinfo=UTC))
    html = client.get("/").text
    assert "Visible" in html and "Due" in html
    assert "A draft" not in html and "Later" not in html and "Unlisted" not in html


def _pager_links(html: str) -> dict[str, str]:
    """The list's own links: "more" (older posts) and "newer", by their href."""
    links = {}
    more = re.search(r'<a class="more-posts" href="([^"]+)"', html)
    if more:
        links["more"] = unescape(more.group(1))
    newer = re.search(r'<nav class="pager-back">\s*<a href="([^"]+)"', html)
    if newer:
        links["newer"] = unescape(newer.group(1))
    return links


def test_pagination_with_plain_links(client: FlaskClient, make_post: MakePost) -> None:
    make_posts(make_post, 7)  # three per page in tests
    first = client.get("/")
    assert "Post 6" in first.text and "Post 3" not in first.text
    assert "Newer posts" not in first.text
    # The list pages by cursor: the next page starts after the last post shown.
    assert _pager_links(first.text)["more"].startswith("/?before=")
    second = client.get(_pager_links(first.text)["more"])
    assert "Post 3" in second.text and "Post 1" in second.text
    assert "Post 4" not in second.text and "Post 0" not in second.text
    assert "Newer posts" in second.text
    third = client.get(_pager_links(second.text)["more"])
    assert "Post 0" in third.text and "more" not in _pager_links(third.text)
    # Back up: the newer page is the second page again, then the first (the plain URL's).
    back = client.get(_pager_links(third.text)["newer"])
    assert (
        back.text.count('class="post-card"') == 3
        and "Post 3" in back.text
        and "Post 1" in back.text
    )
    top = client.get(_pager_links(back.text)["newer"])
    assert top.status_code == 302 and top.headers["Location"] == "/"


def test_a_cursor_page_does_not_shift_when_a_post_is_published(
    client: FlaskClient, make_post: MakePost
) -> None:
    make_posts(make_post, 6)
    more = _pager_links(client.get("/").text)["more"]
    make_post(title="Breaking")
    page = client.get(more)
    assert "Post 2" in page.text and "Post 3" not in page.text  # not pushed down a place
    assert "Breaking" in client.get("/").text


def test_old_page_number_links_keep_working(client: FlaskClient, make_post: MakePost) -> None:
    make_posts(make_post, 7)
    second = client.get("/?page=2")
    assert "Post 3" in second.text and "Post 1" in second.text
    assert "Post 4" not in second.text and "Post 0" not in second.text
    assert "Newer posts" in second.text and "more" in _pager_links(second.text)
    third = client.get("/?page=3")
    assert "Post 0" in third.text and "more" not in _pager_links(third.text)
    assert client.get("/?page=4").status_code == 404
    assert client.get("/?page=0").status_code == 404


@pytest.mark.parametrize(
    "query",
    ["before=", "before=abc", "before=1-", "before=-1", "before=1.5-2", "after=١٢-3",
     "before=999999999999999999-1", "before=1-9999999999999999999", "before=1-2&after=1-2",
     "before=1-2&page=2", "after=%00", "before=1-2-3"],
)  # fmt: skip
def test_a_malformed_list_position_is_404_not_an_error(
    client: FlaskClient, make_post: MakePost, query: str
) -> None:
    make_posts(make_post, 4)
    assert client.get(f"/?{query}").status_code == 404


def test_past_the_oldest_post_is_404(client: FlaskClient, make_post: MakePost) -> None:
    make_posts(make_post, 2)
    assert client.get("/?before=0-0").status_code == 404
    # Newer than everything is the first page, at its own address.
    assert client.get("/?after=99999999999999999-1").headers["Location"] == "/"


def test_more_posts_button_gets_only_the_next_items_for_htmx(
    client: FlaskClient, make_post: MakePost
) -> None:
    make_posts(make_post, 7)
    page = client.get("/")
    more = _pager_links(page.text)["more"]
    assert f'hx-get="{escape(more)}"' in page.text and 'hx-target="closest .pager"' in page.text
    fragment = client.get(more, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "site-header" not in fragment.text
    assert fragment.text.count('class="post-card"') == 3
    assert 'hx-get="/?before=' in fragment.text
    assert "HX-Request" in fragment.headers["Vary"] and "HX-Request" in page.headers["Vary"]


def test_boosted_and_history_requests_get_the_whole_page(
    client: FlaskClient, make_post: MakePost
) -> None:
    make_posts(make_post, 4)
    for header in ("HX-Boosted", "HX-History-Restore-Request"):
        response = client.get("/?page=2", headers={"HX-Request": "true", header: "true"})
        assert "<html" in response.text


def _writer(app: Flask, username: str, display_name: str) -> int:
    with app.app_context(), writing():
        user = create_user(username, "a long password", Role.AUTHOR, display_name=display_name)
        db.session.flush()
        return user.id


def test_cards_name_their_authors_only_when_the_site_has_several(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    kim = _writer(app, "kim", "김 기자")
    make_post(title="One", author_id=kim)
    make_post(title="Two", author_id=kim)
    assert 'class="byline' not in client.get("/").text  # one writer: names say nothing
    lee = _writer(app, "lee", "이 기자")
    make_post(title="Three", author_id=lee, categories=("News",))
    html = client.get("/").text
    assert html.count('<span class="byline-name">김 기자</span>') == 2
    assert html.count('<span class="byline-name">이 기자</span>') == 1
    assert '<span class="byline-name">이 기자</span>' in client.get("/category/news").text


HOW_TO_START = ("getting-started", "Your blog is ready", "/admin/posts/new", "/admin/users")


def init_with_sample(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["init"])  # the admin exists: it only imports the sample
    assert result.exit_code == 0 and "Imported the sample post" in result.output, result.output


def test_a_new_blog_tells_its_signed_in_admin_how_to_start(
    client: FlaskClient, runner: FlaskCliRunner, login: Login
) -> None:
    login("admin")
    html = client.get("/").text
    for text in HOW_TO_START:
        assert text in html
    assert "/admin/settings" in html and "it is now “Test Blog”." in html
    init_with_sample(runner)  # the sample alone still makes a new blog
    html = client.get("/").text
    assert "Your blog is ready" in html and "move it to the trash" in html


def test_anonymous_readers_and_other_roles_see_nothing_of_how_to_start(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, login: Login
) -> None:
    login("admin", browser=app.test_client())
    init_with_sample(runner)
    for html in (client.get("/").text, client.get("/", headers={"HX-Request": "true"}).text):
        for text in HOW_TO_START:
            assert text not in html
    login("editor")
    for text in HOW_TO_START:
        assert text not in client.get("/").text


def test_how_to_start_goes_with_the_first_post_of_the_blog_s_own(
    client: FlaskClient, login: Login, make_post: MakePost
) -> None:
    login("admin")
    make_post(title="첫 기사")  # written here: not the sample
    assert "Your blog is ready" not in client.get("/").text
