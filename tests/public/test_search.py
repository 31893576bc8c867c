"""Search: Korean substrings and short words, phrases, ranking, highlighting, what readers may
find, the index kept in step by every write, hostile queries, pages and htmx fragments."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from blog import create_app
from blog.content import search, taxonomy
from blog.content.jekyll.importer import JekyllImporter
from blog.content.publish import empty_trash, restore_post, trash_post
from blog.content.search import SearchQuery, passage, term_marker
from blog.content.settings import site_zone
from blog.database import schema_changes
from blog.extensions import db, init_migrations
from blog.models import Post, User
from tests.conftest import Login, MakePost, database_url, post_form
from tests.editor.test_editing import edit_form
from tests.test_linear_time import Case, adversarial_inputs, assert_linear_time

_TITLE = re.compile(r'<h2 class="post-card-title"><a href="[^"]*">(.*?)</a></h2>')


def titles(client: FlaskClient, query: str, **params: str) -> list[str]:
    """The titles a search shows, marks removed, in order."""
    response = client.get("/search", query_string={"q": query, **params})
    assert response.status_code == 200, response.text[:500]
    return [re.sub(r"</?mark>", "", title) for title in _TITLE.findall(response.text)]


def post_id(app: Flask, slug: str) -> int:
    with app.app_context():
        return db.session.execute(select(Post.id).where(Post.slug == slug)).scalar_one()


# --- what is found ------------------------------------------------------------------


def test_a_korean_word_inside_a_longer_word_is_found(
    client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="브리핑", source="대통령실은 오늘 입장을 밝혔다.")
    make_post(title="다른 글", source="국회는 오늘 열리지 않았다.")
    assert titles(client, "통령실") == ["브리핑"]


def test_words_shorter_than_three_characters_are_found_inside_words(
    client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="봄 소식", source="여의도에 벚꽃이 피었다.")
    make_post(title="꽃", source="Open AI models")  # a title that is the whole word
    make_post(title="겨울", source="눈이 왔다.")
    assert titles(client, "벚꽃") == ["봄 소식"]
    assert titles(client, "꽃") == ["꽃", "봄 소식"]  # the title match first
    assert titles(client, "ai") == ["꽃"]  # any case, at the end of a word
    assert titles(client, "없음") == []


def test_every_word_must_be_found_and_quotes_make_a_phrase(
    client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="축제", source="벚꽃 축제가 열렸다.")
    make_post(title="따로", source="벚꽃이 피었고, 축제는 취소됐다.")
    make_post(title="벚꽃만", source="벚꽃이 피었다.")
    assert sorted(titles(client, "벚꽃 축제")) == ["따로", "축제"]
    assert titles(client, '"벚꽃 축제"') == ["축제"]
    assert titles(client, '"벚꽃 축제') == ["축제"]  # an unclosed quote runs to the end


def test_categories_tags_excerpt_and_feature_text_are_searched(
    client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="하나", categories=("국제정치",))
    make_post(title="둘", tags=("반도체",))
    make_post(title="셋", excerpt="요약에만 있는 말")
    make_post(title="넷", feature_text="특집 문구")
    assert titles(client, "제정치") == ["하나"]
    assert titles(client, "도체") == ["둘"]
    assert titles(client, "있는 말") == ["셋"]
    assert titles(client, "특집") == ["넷"]


def test_markup_is_not_searched_only_the_text(client: FlaskClient, make_post: MakePost) -> None:
    make_post(title="링크", source='<p><a href="https://example.com/strong">본문</a></p>',
              source_format="html")  # fmt: skip
    assert titles(client, "strong") == []
    assert titles(client, "example") == []
    assert titles(client, "본문") == ["링크"]


ODD_TITLE = "C++ AND NEAR(a b) OR NOT {a b} a + b title:x ^x -x a* 100% snake_case \\ 🙂 '"


@pytest.mark.parametrize(
    "query",
    ['"', '""', "AND", "OR NOT", "NEAR(a b)", "*", "a*", "^x", "-x", "title:x", "(", ")",
     "{a b}", "a + b", ":", "'", "\\", "%", "_", "0%", "c++", "🙂"],
)  # fmt: skip
def test_fts_syntax_is_searched_for_as_text_never_an_error(
    client: FlaskClient, make_post: MakePost, query: str
) -> None:
    make_post(title=ODD_TITLE, source="본문")
    make_post(title="평범한 글", source="아무 말")
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    found = titles(client, query)
    assert "평범한 글" not in found
    if query.strip('"'):  # every other query is in that title (any case)
        assert found == [ODD_TITLE.replace("&", "&amp;").replace("'", "&#39;")]


def test_decomposed_hangul_finds_composed_text(client: FlaskClient, make_post: MakePost) -> None:
    make_post(title="한글", source="정부 발표")
    import unicodedata

    assert titles(client, unicodedata.normalize("NFD", "정부")) == ["한글"]


# --- ranking and highlighting -------------------------------------------------------


def test_title_matches_come_first_then_relevance_then_the_newest(
    client: FlaskClient, make_post: MakePost
) -> None:
    day = datetime(2024, 3, 1, tzinfo=UTC)
    make_post(title="본문에 한 번", source="반도체 " + "다른 말 " * 30, published_at=day)
    make_post(title="본문에 여러 번", source="반도체 " * 8 + "다른 말 " * 23, published_at=day)
    make_post(title="반도체 옛 기사", source="내용", published_at=day - timedelta(days=30))
    make_post(title="반도체 새 기사", source="내용", published_at=day + timedelta(days=1))
    assert titles(client, "반도체") + titles(client, "반도체", page="2") == [
        "반도체 새 기사", "반도체 옛 기사", "본문에 여러 번", "본문에 한 번",
    ]  # fmt: skip


def test_a_common_word_ranks_the_newest_matches_and_every_title_match(
    client: FlaskClient, make_post: MakePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past CANDIDATES matches (at least a page), only the newest are ranked, but a post
    whose title matches is found however old: a common word costs the same at any size."""
    monkeypatch.setattr(search, "CANDIDATES", 4)  # pages of three here (POSTS_PER_PAGE)
    day = datetime(2024, 3, 1, tzinfo=UTC)
    make_post(title="반도체 첫 기사", source="처음", published_at=day)
    # The older, the more often the word: ranking every match would put 본문 1 first.
    for number in range(1, 7):
        make_post(title=f"본문 {number}", source="반도체 " * (7 - number) + "끝",
                  published_at=day + timedelta(days=number))  # fmt: skip
    assert titles(client, "반도체") == ["반도체 첫 기사", "본문 3", "본문 4"]
    assert titles(client, "반도") == ["반도체 첫 기사", "본문 3", "본문 4"]  # short word


def test_words_in_many_posts_rank_the_newest_first_after_the_titles(
    client: FlaskClient, make_post: MakePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bm25 must read every post a word is in; past MAX_POSTS_FOR_BM25 such posts the
    newest come first (after title matches), and the search stays bounded."""
    monkeypatch.setattr(search, "MAX_POSTS_FOR_BM25", 2)
    day = datetime(2024, 3, 1, tzinfo=UTC)
    make_post(title="반도체 옛 기사", source="내용", published_at=day - timedelta(days=30))
    make_post(title="본문에 여러 번", source="반도체 " * 8, published_at=day)
    make_post(title="본문에 한 번", source="반도체 이야기", published_at=day + timedelta(days=1))
    assert titles(client, "반도체") == ["반도체 옛 기사", "본문에 한 번", "본문에 여러 번"]


def test_the_matching_passage_is_shown_escaped_with_the_match_marked(
    client: FlaskClient, make_post: MakePost
) -> None:
    opening = "앞부분 " * 60
    body = opening + "<script>alert(1)</script> 대통령실은 말했다"
    make_post(title="<b>제목</b> 태그", source=body, source_format="html")
    make_post(title="꺾쇠", source="`<img src=x onerror=alert(1)>` 코드")
    html = client.get("/search", query_string={"q": "통령실"}).text
    assert "대<mark>통령실</mark>은 말했다" in html
    assert "… " in html and "앞부분 " * 60 not in html  # the passage, not the opening
    html = client.get("/search", query_string={"q": "<img"}).text
    assert "<mark>&lt;img</mark> src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html
    html = client.get("/search", query_string={"q": "<b>"}).text
    assert "<mark>&lt;b&gt;</mark>제목" in html
    assert "<h1" in html and "<b>" not in html.split("<main", 1)[1]


def test_a_post_found_by_its_title_or_names_shows_its_opening() -> None:
    row = search.IndexedPost(1, "제목  ", "본문의 첫 문장  ", "  ", "  ", "태그  ")
    assert str(passage(row, term_marker(["태그"]))) == "본문의 첫 문장"


# --- what readers may find ----------------------------------------------------------


def test_only_posts_readers_can_see_are_found(
    app: Flask, client: FlaskClient, make_post: MakePost, admin: int
) -> None:
    now = datetime(2030, 5, 1, tzinfo=UTC)
    app.config["CLOCK"] = lambda: now
    make_post(title="공개 기사", source="비밀단어", published_at=now - timedelta(days=1))
    make_post(title="초안", source="비밀단어", status="draft")
    make_post(title="검토 중", source="비밀단어", status="pending")
    make_post(title="비공개 링크", source="비밀단어", status="unlisted",
              published_at=now - timedelta(days=1))  # fmt: skip
    make_post(title="예약", source="비밀단어", status="scheduled",
              published_at=now + timedelta(hours=1))  # fmt: skip
    trashed = make_post(title="휴지통", source="비밀단어", published_at=now - timedelta(days=1))
    with app.app_context():
        trash_post(db.session.get(Post, post_id(app, trashed)), db.session.get(User, admin))  # type: ignore[arg-type]
    assert titles(client, "비밀단어") == ["공개 기사"]
    assert titles(client, "비밀") == ["공개 기사"]  # the short-word path too
    app.config["CLOCK"] = lambda: now + timedelta(hours=2)
    assert titles(client, "비밀단어") == ["예약", "공개 기사"]


# --- the index follows every write --------------------------------------------------


def test_the_editor_save_status_change_trash_and_restore_keep_the_index(
    app: Flask, client: FlaskClient, login: Login, make_post: MakePost
) -> None:
    login("editor")
    slug = make_post(title="처음 제목", source="첫 본문")
    number = post_id(app, slug)
    reader = app.test_client()
    assert titles(reader, "처음 제목") == ["처음 제목"]
    form = edit_form(client, number)
    form.update(title="고친 제목", body="새 본문 벚꽃이")
    assert post_form(client, f"/admin/posts/{number}/edit", form).status_code == 303
    assert titles(reader, "처음 제목") == [] and titles(reader, "첫 본문") == []
    assert titles(reader, "벚꽃") == ["고친 제목"]
    form = edit_form(client, number)
    form.update(status="draft")
    post_form(client, f"/admin/posts/{number}/edit", form)
    assert titles(reader, "벚꽃") == []
    form = edit_form(client, number)
    form.update(status="published")
    post_form(client, f"/admin/posts/{number}/edit", form)
    assert titles(reader, "벚꽃") == ["고친 제목"]
    post_form(client, f"/admin/posts/{number}/delete", {"confirmed": "yes"})
    assert titles(reader, "벚꽃") == []
    assert post_form(client, f"/admin/trash/{number}/restore").status_code == 303
    assert titles(reader, "벚꽃") == ["고친 제목"]


def test_the_domain_trash_restore_and_empty_trash_keep_the_index(
    app: Flask, client: FlaskClient, make_post: MakePost, admin: int
) -> None:
    slug = make_post(title="오락가락", source="본문")
    with app.app_context():
        editor = db.session.get(User, admin)
        assert editor is not None
        trash_post(db.session.get(Post, post_id(app, slug)), editor)  # type: ignore[arg-type]
        assert titles(client, "오락가락") == []
        restore_post(db.session.get(Post, post_id(app, slug)), editor)  # type: ignore[arg-type]
        assert titles(client, "오락가락") == ["오락가락"]
        trash_post(db.session.get(Post, post_id(app, slug)), editor)  # type: ignore[arg-type]
        assert empty_trash(editor) == 1
        assert search.search_index().texts(db.session(), [1]) == {}  # type: ignore[union-attr]


def test_renaming_merging_and_deleting_terms_keep_the_index(
    app: Flask, client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="분류 글", categories=("옛분류",), tags=("옛태그", "남는태그"))
    make_post(title="다른 글", tags=("새태그",))
    with app.app_context():
        category = taxonomy.find_by_name("category", "옛분류")
        assert category is not None
        taxonomy.rename_term(category, "새분류", None)
    assert titles(client, "옛분류") == [] and titles(client, "새분류") == ["분류 글"]
    with app.app_context():
        source = taxonomy.find_by_name("tag", "옛태그")
        target = taxonomy.find_by_name("tag", "새태그")
        taxonomy.merge_terms("tag", source, target, None)
    assert titles(client, "옛태그") == []
    assert sorted(titles(client, "새태그")) == ["다른 글", "분류 글"]
    with app.app_context():
        left = taxonomy.find_by_name("tag", "남는태그")
        assert left is not None
        taxonomy.delete_term(left, None)
    assert titles(client, "남는태그") == []
    assert titles(client, "분류 글") == ["분류 글"]  # the rest of its entry is still there


def test_an_import_and_a_reimport_keep_the_index(app: Flask, client: FlaskClient,
                                                 tmp_path: Path) -> None:  # fmt: skip
    posts = tmp_path / "site" / "_posts"
    posts.mkdir(parents=True)
    article = posts / "2024-05-01-spring.md"
    article.write_text("---\ntitle: 가져온 글\ntags: [봄꽃]\n---\n여의도 벚꽃이 피었다.\n",
                       encoding="utf-8")  # fmt: skip
    (posts / "2024-05-02-draft.md").write_text(
        "---\ntitle: 숨은 글\npublished: false\n---\n벚꽃 초안\n", encoding="utf-8"
    )
    with app.app_context():
        JekyllImporter(tmp_path / "site", author=None, fallback_zone=site_zone()).run()
    assert titles(client, "벚꽃") == ["가져온 글"]
    assert titles(client, "봄꽃") == ["가져온 글"]
    article.write_text("---\ntitle: 가져온 글\n---\n한강 개나리가 피었다.\n", encoding="utf-8")
    with app.app_context():
        JekyllImporter(tmp_path / "site", author=None, fallback_zone=site_zone()).run()
    assert titles(client, "벚꽃") == [] and titles(client, "개나리") == ["가져온 글"]


def test_the_migration_indexes_the_posts_already_there(tmp_path: Path) -> None:
    """On SQLite the FTS5 migrations fill the index, on PostgreSQL the pg_trgm one."""
    app = create_app(
        {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_url(tmp_path)},
        instance_path=str(tmp_path / "instance"),
    )
    init_migrations(app)
    with app.app_context():
        flask_migrate.upgrade(revision="f3b8d2a6c415")
        with schema_changes(), db.engine.begin() as connection:
            run = connection.exec_driver_sql
            for number, status in ((1, "published"), (2, "draft")):
                run("INSERT INTO posts (id, title, slug, source, source_format, body_html, "
                    "excerpt, summary, feature_text, feature_image, status, published_at, "
                    "created_at, updated_at, extra, version) VALUES "
                    f"({number}, '옛 글 {number}', 's{number}', '', 'html', "
                    "'<p>대통령실은 <b>오늘</b></p><p>발표</p>', '', '', '', '', "
                    f"'{status}', '2024-01-01 00:00:00', '2024-01-01 00:00:00', "
                    "'2024-01-01 00:00:00', '{}', 1)")  # fmt: skip
            run("INSERT INTO tags (id, name, name_key, slug) VALUES (1, '속보', '속보', '속보')")
            run("INSERT INTO post_tags VALUES (1, 1)")
        flask_migrate.upgrade()
    client = app.test_client()
    assert titles(client, "통령실") == ["옛 글 1"]
    assert titles(client, "오늘 발표") == ["옛 글 1"]
    assert titles(client, "속보") == ["옛 글 1"]
    with app.app_context():
        flask_migrate.downgrade(revision="f3b8d2a6c415")


# --- hostile input, pages, htmx, the page cache ----------------------------------------


@pytest.mark.parametrize(
    "query_string",
    ["", "q=", "q=+++", "q=" + "%EA%B0%80" * 10_000, "q=" + quote("!?.,;:()[]{}" * 50),
     "q=a%00b", "q=%00", "q=%ED%A0%80", "q=%FF%FE", "q=%", "q=%E",
     "q=벚꽃&page=abc", "q=벚꽃&page=-1", "q=벚꽃&page=0", "q=벚꽃&page=99999",
     "q=벚꽃&page=" + "9" * 40, "q=벚꽃&page=١", "q=벚꽃&page=%00"],
)  # fmt: skip
def test_hostile_queries_get_a_friendly_page(
    client: FlaskClient, make_post: MakePost, query_string: str
) -> None:
    make_post(title="벚꽃", source="가가가 벚꽃이")
    response = client.get("/search?" + query_string)
    assert response.status_code == 200
    assert 'class="empty"' in response.text or 'class="search-result"' in response.text


def test_q_given_twice_uses_the_first(client: FlaskClient, make_post: MakePost) -> None:
    make_post(title="첫째", source="사과")
    make_post(title="둘째", source="배추")
    response = client.get("/search?q=사과&q=배추")
    assert response.status_code == 200 and "첫째" in response.text and "둘째" not in response.text


def test_results_come_in_pages_with_links_that_work_without_javascript(
    client: FlaskClient, make_post: MakePost
) -> None:
    for number in range(7):  # three a page in tests
        make_post(title=f"기사 {number}", source="공통 단어",
                  published_at=datetime(2024, 1, number + 1, tzinfo=UTC))  # fmt: skip
    first = client.get("/search?q=공통").text
    assert re.findall(r"기사 \d", first) == ["기사 6", "기사 5", "기사 4"]
    seen = []
    url: str | None = "/search?q=공통"
    while url:
        html = client.get(url).text
        seen += _TITLE.findall(html)
        found = re.search(r'<a rel="next" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == [f"기사 {n}" for n in range(6, -1, -1)]
    last = client.get("/search?q=공통&page=3").text
    assert 'rel="prev" href="/search?q=%EA%B3%B5%ED%86%B5&amp;page=2"' in last
    beyond = client.get("/search?q=공통&page=9").text
    assert "No more results." in beyond and "기사" not in "".join(_TITLE.findall(beyond))


def test_htmx_gets_the_results_block_and_the_page_says_vary(
    client: FlaskClient, make_post: MakePost
) -> None:
    make_post(title="벚꽃 기사", source="본문")
    page = client.get("/search?q=벚꽃")
    assert "<html" in page.text and 'role="search"' in page.text
    assert 'value="벚꽃"' in page.text  # the box keeps the query
    assert "HX-Request" in page.headers["Vary"]
    fragment = client.get("/search?q=벚꽃", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert "<html" not in fragment.text and "<header" not in fragment.text
    assert "<mark>벚꽃</mark> 기사" in fragment.text


def test_every_public_page_has_the_labelled_search_box(
    client: FlaskClient, make_post: MakePost
) -> None:
    slug = make_post(title="글", categories=("정치",))
    for url in ("/", f"/posts/{slug}", "/category/정치", "/search"):
        html = client.get(url).text
        form = re.search(r'<form class="site-search" role="search" action="/search" '
                         r'method="get">(.*?)</form>', html, re.S)  # fmt: skip
        assert form is not None, url
        assert '<label class="visually-hidden" for="site-search-q">' in form.group(1)
        assert 'hx-trigger="input changed delay:300ms, search"' in form.group(1)
        assert 'hx-push-url="true"' in form.group(1)


def test_the_search_box_speaks_korean(app: Flask, client: FlaskClient) -> None:
    from blog.content.settings import set_setting
    from blog.database import writing

    with app.app_context(), writing():
        set_setting("language", "ko")
    html = client.get("/search").text
    assert '<label class="visually-hidden" for="site-search-q">글 검색</label>' in html
    assert '<button type="submit">검색</button>' in html


def test_a_save_invalidates_a_cached_search_page(
    app: Flask, client: FlaskClient, login: Login, make_post: MakePost
) -> None:
    login("editor")
    slug = make_post(title="캐시 기사", source="본문")
    reader = app.test_client()
    assert titles(reader, "수정본") == []
    assert titles(reader, "수정본") == []  # from the cache now
    number = post_id(app, slug)
    form = edit_form(client, number)
    form.update(body="수정본 내용")
    assert post_form(client, f"/admin/posts/{number}/edit", form).status_code == 303
    assert titles(reader, "수정본") == ["캐시 기사"]


# --- linear time ----------------------------------------------------------------------


def test_parsing_and_highlighting_run_in_linear_time(tmp_path: Path) -> None:
    def run(text: str) -> None:
        query = SearchQuery.parse(text)
        terms = query.terms or ("a",)
        row = search.IndexedPost(1, text, text, text, text, text)
        passage(row, term_marker([*terms, "a" * 50, "aa", "가"]))

    def cases() -> Iterator[Case]:
        for description, text in adversarial_inputs(("", '"', "a"), size=1_000_000):
            yield description, functools.partial(run, text)

    assert_linear_time(cases, tmp_path)
