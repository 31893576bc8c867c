"""`blog export-json` and `blog import-json`: an empty blog that imports the export is the
same site, page for page; bad files and non-empty blogs are refused with a reason."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from blog.auth.accounts import check_password, create_user, update_profile
from blog.content.media import clean_image, media_url, store_media, update_media_text
from blog.content.posts import render_post, save_post, set_categories, set_tags
from blog.content.publish import trash_post
from blog.content.redirects import add_redirect
from blog.content.settings import set_setting
from blog.content.taxonomy import rename_term
from blog.content.transfer import FORMAT, VERSION
from blog.database import writing
from blog.extensions import db
from blog.models import Category, Post, Role, User
from tests.conftest import PASSWORD
from tests.test_backups import make_blog, query

MARKDOWN_WITH_HEADINGS = """세 개의 제목이 있는 글.[^1]

## 첫째 제목

본문 *하나*.

## 둘째 제목

```python
print("안녕")
```

## 셋째 제목

끝.

[^1]: 각주 내용.
"""

TISTORY_HTML = """<p data-ke-size="size16">국회 <b><span style="color: #ee2323;">예산안</span></b>
처리.</p>
<table style="border-collapse: collapse; width: 100%;"><tr><td>여당</td><td>야당</td></tr></table>
<pre><code class="language-python">def 합계(a, b):
    return a + b
</code></pre>"""


def image(kind: str, colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(output, kind)
    return output.getvalue()


def add_post(title: str, slug: str, source: str, source_format: str = "markdown",
             status: str = "published", day: int = 1, author: User | None = None,
             categories: tuple[str, ...] = (), tags: tuple[str, ...] = (),
             edits: int = 0, **fields: Any) -> Post:  # fmt: skip
    """Save a post through the domain layer, `edits` more times after the first save."""
    rendered = render_post(source, source_format, fields.get("excerpt", ""))
    with writing():
        post = Post(title=title, slug=slug, source=source, source_format=source_format,
                    status=status, published_at=datetime(2024, 7, day, 9, tzinfo=UTC),
                    author_id=author.id if author else None, **fields)  # fmt: skip
        db.session.add(post)
        set_categories(post, list(categories))
        set_tags(post, list(tags))
        save_post(post, author, rendered)
    for number in range(edits):
        with writing():
            post = db.session.get(Post, post.id)
            post.title = f"{title} ({number + 2}판)"
            save_post(post, author, rendered, note=f"{number + 2}판")
    return post


def build_site(app: Flask) -> None:
    """The sample post (from `blog init`) plus Markdown and HTML posts, categories, tags,
    media, redirects, a renamed category, a second author with a byline, and posts in
    every state."""
    with app.app_context():
        admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
        photo = clean_image(image("PNG", (200, 30, 30)), 1_000_000)
        portrait = clean_image(image("JPEG", (30, 30, 200)), 1_000_000)
        with writing():
            reporter = create_user("reporter", PASSWORD, Role.AUTHOR, display_name="박지훈 기자")
            stored_photo = store_media(photo, "국회-현장.png", admin.id)
            stored_portrait = store_media(portrait, "기자.jpg", admin.id)
            set_setting("title", "한국 뉴스")
            set_setting("description", "빠르고 정확한 소식")
        update_media_text(stored_photo, admin, "국회 본회의장", "본회의장 전경")
        update_profile(reporter, "박지훈 기자", "reporter@example.kr", None,
                       bio="정치부 기자입니다.", avatar=media_url(stored_portrait))  # fmt: skip
        photo_url = media_url(stored_photo)
        body = f"예산안이 통과됐다.\n\n![국회 본회의장]({photo_url})"
        first = add_post("국회 예산안 통과", "budget", body, day=2, author=reporter,
                         categories=("정치", "국회"), tags=("속보", "여야"), edits=2,
                         excerpt="예산안 요약", feature_image=photo_url)  # fmt: skip
        add_post("경제 동향", "economy", TISTORY_HTML, "html", day=3, author=admin,
                 categories=("경제",), tags=("속보",))  # fmt: skip
        add_post("Reading notes", "reading-notes", MARKDOWN_WITH_HEADINGS, day=4,
                 categories=("경제",), tags=("english", "여야"))  # fmt: skip
        for number in range(4):  # enough for a second list page
            add_post(f"단신 {number}", f"brief-{number}", f"짧은 소식 {number}.", day=10 + number,
                     tags=("단신",))  # fmt: skip
        add_post("초안", "draft", "아직 쓰는 중.", status="draft", day=20)
        scheduled = add_post("예약 기사", "scheduled", "미래의 글.", status="scheduled", day=21)
        with writing():
            db.session.get(Post, scheduled.id).published_at = datetime(2099, 1, 1, tzinfo=UTC)
        add_post("숨긴 기사", "unlisted", "링크로만.", status="unlisted", day=22)
        trashed = add_post("지운 기사", "trashed", "휴지통.", day=23)
        trash_post(db.session.get(Post, trashed.id), admin)
        with writing():
            add_redirect(db.session.get(Post, first.id), "/2024/07/02/budget-passed.html")
        category = db.session.execute(select(Category).where(Category.name == "국회")).scalar_one()
        rename_term(category, "국회 소식", admin)  # the old address answers 301
        db.session.remove()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One source blog for the module: no test changes it."""
    app = make_blog(tmp_path_factory.mktemp("source"), sample=True)
    build_site(app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def exported(source: Flask, tmp_path_factory: pytest.TempPathFactory) -> Path:
    file = tmp_path_factory.mktemp("export") / "site.json"
    result = source.test_cli_runner().invoke(args=["export-json", str(file)])
    assert result.exit_code == 0, result.output
    assert "Passwords are not in it" in result.output
    assert file.stat().st_mode & 0o077 == 0  # owner only
    return file


@pytest.fixture
def export_file(exported: Path, tmp_path: Path) -> Path:
    """This test's own copy of the export, to spoil as it likes."""
    file = tmp_path / "site.json"
    file.write_bytes(exported.read_bytes())
    return file


class Links(HTMLParser):
    """Every address a page (or feed, or sitemap) names."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_loc = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.extend(value for name, value in attrs if name in ("href", "src") and value)
        self._in_loc = tag in ("loc", "link", "id")

    def handle_endtag(self, tag: str) -> None:
        self._in_loc = False

    def handle_data(self, data: str) -> None:
        if self._in_loc and data.strip():
            self.found.append(data.strip())


PRIVATE = ("/static/", "/admin", "/login", "/logout", "/account", "/reset")


def _local(url: str) -> str | None:
    url = url.split("#", 1)[0]
    if url.startswith("http://localhost/"):
        url = url[len("http://localhost") :]
    if not url.startswith("/") or url.startswith("//") or url.startswith(PRIVATE):
        return None
    return url


LINKING_TYPES = frozenset({"text/html", "application/atom+xml", "application/rss+xml",
                           "application/xml", "text/xml"})  # fmt: skip


def crawl(client: FlaskClient, start: list[str]) -> dict[str, tuple[int, str | None, bytes]]:
    """Every public page reachable from `start`: status, redirect target and body."""
    pages: dict[str, tuple[int, str | None, bytes]] = {}
    queue = list(start)
    while queue and len(pages) < 2_000:
        url = queue.pop()
        if url in pages:
            continue
        response = client.get(url)
        pages[url] = (response.status_code, response.headers.get("Location"), response.data)
        if response.status_code in (301, 302, 303, 308):
            queue.extend(found for found in [_local(response.location or "")] if found)
        if response.mimetype in LINKING_TYPES:
            parser = Links()
            parser.feed(response.get_data(as_text=True))
            queue.extend(found for link in parser.found if (found := _local(link)))
    return pages


def redirect_paths(app: Flask) -> list[str]:
    posts = [row[0] for row in query(app, "SELECT old_path FROM redirects")]
    terms = [f"/{kind}/{quote(slug)}" for kind, slug in
             query(app, "SELECT kind, old_slug FROM taxonomy_redirects")]  # fmt: skip
    return posts + terms


START = ["/", "/archive", "/categories", "/tags", "/feed.atom", "/feed.rss", "/feed.xml",
         "/sitemap.xml", "/sitemap-news.xml", "/robots.txt", "/search?q=예산안",
         "/search?q=속보", "/posts/draft", "/posts/scheduled", "/posts/trashed",
         "/posts/unlisted"]  # fmt: skip


def table(app: Flask, name: str) -> list[tuple[Any, ...]]:
    # Sorted here: PostgreSQL cannot order by a JSON column (settings.value).
    return sorted(query(app, f"SELECT * FROM {name}"), key=repr)  # noqa: S608


def test_an_empty_blog_that_imports_the_export_is_the_same_site(
    source: Flask, export_file: Path, tmp_path: Path
) -> None:
    document = json.loads(export_file.read_text(encoding="utf-8"))
    assert (document["format"], document["version"]) == (FORMAT, VERSION)
    assert all("password_hash" not in user for user in document["data"]["users"])
    assert {user["username"] for user in document["data"]["users"]} == {"admin", "reporter"}

    target = make_blog(tmp_path / "target")
    result = target.test_cli_runner().invoke(args=["import-json", str(export_file)])
    assert result.exit_code == 0, result.output
    assert "Added without a usable password: reporter" in result.output
    assert "blog reset-password" in result.output
    assert "Already here, password kept: admin" in result.output

    start = START + redirect_paths(source)
    source_pages = crawl(source.test_client(), start)
    target_pages = crawl(target.test_client(), start)
    assert set(target_pages) == set(source_pages)
    for url, page in source_pages.items():
        assert target_pages[url] == page, url
    # What was crawled: lists, articles, both list pages, terms, feeds, media, redirects.
    status = {url: page[0] for url, page in source_pages.items()}
    assert status["/posts/budget"] == 200 and status["/posts/unlisted"] == 200
    assert status["/posts/draft"] == status["/posts/trashed"] == status["/posts/scheduled"] == 404
    assert status["/2024/07/02/budget-passed"] == 301  # stored without .html
    assert status["/category/%EA%B5%AD%ED%9A%8C"] == 301  # 국회, renamed 국회 소식
    assert sum(url.startswith("/media/") for url in status) == 3  # the sample's image too
    assert any("before=" in url for url in status)
    assert sum(url.startswith("/posts/") and code == 200 for url, code in status.items()) >= 9
    assert "박지훈 기자".encode() in source_pages["/posts/budget"][2]

    for name in ("posts", "revisions", "media", "categories", "tags", "post_categories",
                 "post_tags", "post_media", "redirects", "settings"):  # fmt: skip
        assert table(target, name) == table(source, name), name
    budget = next(post["id"] for post in document["data"]["posts"] if post["slug"] == "budget")
    assert sum(row["post_id"] == budget for row in document["data"]["revisions"]) == 3


def test_imported_users_cannot_sign_in_until_given_a_password(
    export_file: Path, tmp_path: Path
) -> None:
    target = make_blog(tmp_path / "target")
    assert target.test_cli_runner().invoke(args=["import-json", str(export_file)]).exit_code == 0
    with target.app_context():
        reporter = db.session.execute(select(User).where(User.username == "reporter")).scalar_one()
        assert not check_password(reporter, PASSWORD)
        assert (reporter.display_name, reporter.bio) == ("박지훈 기자", "정치부 기자입니다.")
    result = target.test_cli_runner().invoke(
        args=["reset-password", "reporter", "--password", "새 비밀번호 123456"]
    )
    assert result.exit_code == 0, result.output
    with target.app_context():
        reporter = db.session.execute(select(User).where(User.username == "reporter")).scalar_one()
        assert check_password(reporter, "새 비밀번호 123456")


def test_a_blog_that_imported_the_export_takes_new_posts_users_and_media(
    export_file: Path, tmp_path: Path
) -> None:
    """Ids come from the file; the next new row of every table gets a free one (on
    PostgreSQL the import moves each id sequence past the file's ids)."""
    target = make_blog(tmp_path / "target")
    assert target.test_cli_runner().invoke(args=["import-json", str(export_file)]).exit_code == 0
    tables = ("posts", "revisions", "media", "categories", "tags", "redirects")
    largest = {name: query(target, f"SELECT max(id) FROM {name}")[0][0] for name in tables}  # noqa: S608
    with target.app_context():
        admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
        photo = clean_image(image("PNG", (10, 120, 10)), 1_000_000)
        with writing():
            editor = create_user("editor", PASSWORD, Role.EDITOR)
            stored = store_media(photo, "새 사진.png", admin.id)
        body = f"가져온 뒤 쓴 글.\n\n![사진]({media_url(stored)})"
        post = add_post("새 기사", "new-article", body, author=admin, categories=("새 분류",),
                        tags=("새 태그",), edits=1)  # fmt: skip
        with writing():
            add_redirect(db.session.get(Post, post.id), "/2024/12/01/new-article.html")
        assert editor.id > 2 and stored.id > largest["media"] and post.id > largest["posts"]
        db.session.remove()
    for name, before in largest.items():
        assert query(target, f"SELECT max(id) FROM {name}")[0][0] > before, name  # noqa: S608
    assert target.test_client().get("/posts/new-article").status_code == 200


def test_import_refuses_a_blog_that_is_not_empty(export_file: Path, tmp_path: Path) -> None:
    target = make_blog(tmp_path / "target", sample=True)
    result = target.test_cli_runner().invoke(args=["import-json", str(export_file)])
    assert result.exit_code == 1
    assert "this blog is not empty (1 posts" in result.output
    assert "blog init --no-sample" in result.output
    assert len(table(target, "posts")) == 1


def _edit(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    return document


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda d: {**d, "version": 2}, "export format version 2 is not one this blog reads"),
        (lambda d: {**d, "format": "ghost"}, 'not a blog export: the file has no "format"'),
        (lambda d: _edit(d, "data.posts.0.title", 5), "data.posts[0].title is not text"),
        (lambda d: _edit(d, "data.posts.0.published_at", "어제"), "data.posts[0].published_at"),
        (lambda d: _edit(d, "data.posts.0.author_id", 99), "data.posts[0].author_id: 99 is not"),
        (lambda d: _edit(d, "data.posts.0.spam", 1), "data.posts[0] has unknown field(s): spam"),
        (lambda d: _edit(d, "data.media.0.data", "???"), "data.media[0].data is not base64"),
        (lambda d: _edit(d, "data.media.0.sha256", "0" * 64), "do not match its sha256"),
        (lambda d: _edit(d, "data.posts", {"a": 1}), "data.posts is not a list"),
        (lambda d: _edit(d, "data.users.0", "admin"), "data.users[0] is not an object"),
        (lambda d: _edit(d, "data.posts.0.title", "제목\x00"), "data.posts[0].title is not text"),
    ],
)
def test_a_malformed_export_is_refused_naming_the_problem(
    export_file: Path, tmp_path: Path, spoil: Any, message: str
) -> None:
    document = spoil(json.loads(export_file.read_text(encoding="utf-8")))
    export_file.write_text(json.dumps(document), encoding="utf-8")
    target = make_blog(tmp_path / "target")
    result = target.test_cli_runner().invoke(args=["import-json", str(export_file)])
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert isinstance(result.exception, SystemExit)
    assert table(target, "posts") == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format": "blog-export", "version": 1,', "is not JSON: Expecting"),
        (b"\xff\xfe\x00garbage", "is not"),
        (b"[" * 100_000, "nests too deep"),
        (b"[]", "not a blog export"),
    ],
)
def test_a_file_that_is_not_an_export_is_refused(
    tmp_path: Path, content: bytes, message: str
) -> None:
    file = tmp_path / "bad.json"
    file.write_bytes(content)
    target = make_blog(tmp_path / "target")
    result = target.test_cli_runner().invoke(args=["import-json", str(file)])
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert isinstance(result.exception, SystemExit)
