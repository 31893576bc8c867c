"""The home page: newest first, plain pagination links and an HTMX "more posts" fragment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from tests.conftest import MakePost


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
    assert '<time datetime="2024-07-22T01:00+09:00">2024-07-22</time>' in html  # site zone
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


def test_pagination_with_plain_links(client: FlaskClient, make_post: MakePost) -> None:
    make_posts(make_post, 7)  # three per page in tests
    first = client.get("/")
    assert "Post 6" in first.text and "Post 3" not in first.text
    assert 'href="/?page=2"' in first.text and "Newer posts" not in first.text
    second = client.get("/?page=2")
    assert "Post 3" in second.text and "Post 6" not in second.text
    assert 'href="/?page=3"' in second.text and "Newer posts" in second.text
    third = client.get("/?page=3")
    assert "Post 0" in third.text and "page=4" not in third.text
    assert client.get("/?page=4").status_code == 404
    assert client.get("/?page=0").status_code == 404


def test_more_posts_button_gets_only_the_next_items_for_htmx(
    client: FlaskClient, make_post: MakePost
) -> None:
    make_posts(make_post, 7)
    page = client.get("/")
    assert 'hx-get="/?page=2"' in page.text and 'hx-target="closest .pager"' in page.text
    fragment = client.get("/?page=2", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "site-header" not in fragment.text
    assert fragment.text.count('class="post-card"') == 3
    assert 'hx-get="/?page=3"' in fragment.text
    assert "HX-Request" in fragment.headers["Vary"] and "HX-Request" in page.headers["Vary"]


def test_boosted_and_history_requests_get_the_whole_page(
    client: FlaskClient, make_post: MakePost
) -> None:
    make_posts(make_post, 4)
    for header in ("HX-Boosted", "HX-History-Restore-Request"):
        response = client.get("/?page=2", headers={"HX-Request": "true", header: "true"})
        assert "<html" in response.text
