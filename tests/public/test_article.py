"""Article pages: everything a reader needs, and nothing they may not see."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from blog.auth.accounts import create_user
from blog.content.jekyll.importer import JekyllImporter
from blog.content.people import Byline, byline
from blog.content.settings import site_zone
from blog.database import writing
from blog.extensions import db
from blog.models import Role, User
from tests.conftest import MakePost

SAMPLE = Path(__file__).parents[2] / "blog" / "sample"
SEED_SLUG = "한미-동맹-지지-대통령실-초당적-의지-공개"


def import_sample(app: Flask) -> None:
    with app.app_context():
        JekyllImporter(SAMPLE, author=None, fallback_zone=site_zone(), assets_dir=SAMPLE).run()


def test_article_shows_title_date_categories_tags_and_body(
    client: FlaskClient, make_post: MakePost
) -> None:
    slug = make_post(
        title="Hello",
        source="Body **text**.",
        categories=("News", "한국"),
        tags=("python", "웹 개발"),
        feature_text="Lead.",
        published_at=datetime(2024, 3, 1, 15, 30, tzinfo=UTC),
    )
    html = client.get(f"/posts/{slug}").text
    assert '<h1 class="post-title">Hello</h1>' in html
    assert '<time datetime="2024-03-02T00:30+09:00">March 2, 2024</time>' in html
    assert 'href="/category/news">News</a>' in html
    assert f'href="/category/{quote("한국")}">한국</a>' in html
    assert f'href="/tag/{quote("웹-개발")}">#웹 개발</a>' in html
    assert "<strong>text</strong>" in html
    assert '<p class="post-lead">Lead.</p>' in html
    assert "<title>Hello · Test Blog</title>" in html


def test_author_html_sits_inside_hx_disable(client: FlaskClient, make_post: MakePost) -> None:
    slug = make_post(source="<p hx-get='/x'>text</p>", source_format="html")
    html = client.get(f"/posts/{slug}").text
    assert '<div class="post-body" hx-disable>' in html
    assert "hx-get='/x'" not in html and 'hx-get="/x"' not in html


def test_previous_and_next_links(client: FlaskClient, make_post: MakePost) -> None:
    make_post(title="First", slug="first", published_at=datetime(2024, 1, 1, tzinfo=UTC))
    make_post(title="Second", slug="second", published_at=datetime(2024, 1, 2, tzinfo=UTC))
    make_post(title="Third", slug="third", published_at=datetime(2024, 1, 3, tzinfo=UTC))
    make_post(
        title="Hidden", slug="hidden", status="draft", published_at=datetime(2024, 1, 4, tzinfo=UTC)
    )
    html = client.get("/posts/second").text
    assert 'rel="next" href="/posts/third"' in html and 'rel="prev" href="/posts/first"' in html
    assert "/posts/hidden" not in client.get("/posts/third").text
    assert 'rel="prev"' not in client.get("/posts/first").text


def test_feature_image_shown_unless_the_body_already_opens_with_it(
    client: FlaskClient, make_post: MakePost
) -> None:
    shown = make_post(feature_image="/media/a/x.jpg", source="Text only.")
    hidden = make_post(feature_image="/media/a/y.jpg", source="![y](/media/a/y.jpg)")
    assert (
        '<figure class="feature-image"><img src="/media/a/x.jpg"'
        in client.get(f"/posts/{shown}").text
    )
    assert "feature-image" not in client.get(f"/posts/{hidden}").text


def test_drafts_and_future_posts_are_not_public(client: FlaskClient, make_post: MakePost) -> None:
    draft = make_post(status="draft")
    future = make_post(status="scheduled", published_at=datetime(2099, 1, 1, tzinfo=UTC))
    assert client.get(f"/posts/{draft}").status_code == 404
    assert client.get(f"/posts/{future}").status_code == 404


def test_scheduled_post_is_public_once_its_time_has_come(
    client: FlaskClient, make_post: MakePost
) -> None:
    due = make_post(
        title="Due now", status="scheduled", published_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    assert client.get(f"/posts/{due}").status_code == 200


def test_unlisted_post_is_reachable_by_url_only(client: FlaskClient, make_post: MakePost) -> None:
    slug = make_post(title="Secret link", status="unlisted")
    response = client.get(f"/posts/{slug}")
    assert response.status_code == 200 and '<meta name="robots" content="noindex">' in response.text
    assert "Secret link" not in client.get("/").text


def test_sample_post_renders_faithfully(app: Flask, client: FlaskClient) -> None:
    import_sample(app)
    response = client.get(f"/posts/{quote(SEED_SLUG)}")
    html = response.text
    assert response.status_code == 200
    assert "한·미 동맹 지지 대통령실 초당적 의지 공개!" in html
    assert html.count('<span style="color: #ee2323">') == 5
    assert html.count('<span style="background-color: #21538527">') == 5
    assert html.count('<span style="color: #1a5490">') == 4
    assert html.count('<td style="text-align: center; height: 17px">') == 4
    assert '<table style="width: 100%; border-collapse: collapse">' in html
    assert html.count('data-ke-size="size26">') == 4  # with anchors: tests/content/test_headings.py
    assert "<li>정치적 변동성에도 불구하고 협력 지속</li>" in html
    assert 'href="https://newsdao.kr"' in html
    assert 'alt="bookingtag 속보"' in html


def test_sample_image_is_served_from_the_database_with_long_caching(
    app: Flask, client: FlaskClient
) -> None:
    import_sample(app)
    html = client.get(f"/posts/{quote(SEED_SLUG)}").text
    src = html.split('<img src="', 1)[1].split('"', 1)[0]
    image = client.get(src)
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    # Re-encoded without metadata on import, as every image that enters the media store.
    original = Image.open(SAMPLE / "assets/img/newsdao_breakingnews.jpg")
    served = Image.open(io.BytesIO(image.data))
    assert served.format == "JPEG" and served.size == original.size and not served.getexif()
    assert image.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert image.headers["Content-Security-Policy"].endswith("sandbox")
    again = client.get(src, headers={"If-None-Match": image.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/media/" + "0" * 64 + "/x.jpg").status_code == 404


def _author(app: Flask, username: str, **fields: str) -> int:
    with app.app_context(), writing():
        user = create_user(username, "a long password", Role.AUTHOR, **fields)
        db.session.flush()
        return user.id


def _set_profile(app: Flask, user_id: int, bio: str = "", avatar: str = "") -> None:
    with app.app_context(), writing():
        user = db.session.get(User, user_id)
        assert user is not None
        user.bio, user.avatar = bio, avatar


def test_article_has_a_byline_with_the_author_s_name_bio_and_picture(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    kim = _author(app, "kim", display_name="김민지 기자")
    avatar = "/media/" + "a" * 64 + "/kim.jpg"
    _set_profile(app, kim, bio="사회부.\n부산 담당", avatar=avatar)
    html = client.get(f"/posts/{make_post(title='기사', author_id=kim)}").text
    header = html.split('<header class="post-header">', 1)[1].split("</header>", 1)[0]
    assert '<a class="byline-name" rel="author" href="#author">김민지 기자</a>' in header
    assert f'<img class="avatar" src="{avatar}" alt=""' in header
    card = html.split('<address class="author-card" id="author">', 1)[1].split("</address>")[0]
    assert "김민지 기자" in card and '<span class="author-bio">사회부.\n부산 담당</span>' in card


def test_a_byline_without_bio_is_the_name_alone(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    lee = _author(app, "lee", display_name="이기자")
    html = client.get(f"/posts/{make_post(author_id=lee)}").text
    assert '<span class="byline-name">이기자</span>' in html
    assert "author-card" not in html and 'class="avatar"' not in html


def test_a_login_name_is_never_printed_as_a_byline(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    # Half of what signs in; an author without a display name has no byline.
    park = _author(app, "park-login")
    html = client.get(f"/posts/{make_post(author_id=park)}").text
    assert "park-login" not in html and 'class="byline' not in html


def test_a_post_without_an_author_has_no_byline(client: FlaskClient, make_post: MakePost) -> None:
    assert 'class="byline' not in client.get(f"/posts/{make_post()}").text


def test_byline_text_is_escaped_and_hostile_pictures_are_not_shown(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    # Rows written around the account page's checks (older versions, hand edits).
    evil = _author(app, "evil", display_name="<img src=x onerror=alert(1)>")
    _set_profile(app, evil, bio="<script>alert(1)</script>", avatar="javascript:alert(1)")
    html = client.get(f"/posts/{make_post(author_id=evil)}").text
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "javascript:" not in html


def test_byline_helper_gives_feeds_the_author_s_name_bio_and_picture(app: Flask) -> None:
    kim = _author(app, "kim", display_name="김민지")
    _set_profile(app, kim, bio="소개", avatar="https://img.example.kr/kim.jpg")
    with app.app_context():
        assert byline(db.session.get(User, kim)) == Byline(
            name="김민지", bio="소개", avatar_url="https://img.example.kr/kim.jpg"
        )
        assert byline(None) is None


def test_a_feature_image_an_import_could_not_store_is_not_shown_broken(
    client: FlaskClient, make_post: MakePost
) -> None:
    # The importer keeps the archive's path when the file was missing.
    make_post(title="속보", slug="a", feature_image="/assets/img/newsdao_breakingnews.jpg")
    make_post(title="사진", slug="b", feature_image="https://cdn.example.kr/b.jpg")
    home = client.get("/").text
    assert "/assets/img/" not in home and 'src="https://cdn.example.kr/b.jpg"' in home
    assert "feature-image" not in client.get("/posts/a").text
    assert '<figure class="feature-image">' in client.get("/posts/b").text
