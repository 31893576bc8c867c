"""`blog export-jekyll`: a Jekyll site that imports back into the same blog."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

import pytest
import yaml
from flask import Flask
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer

from blog import create_app
from blog.content.jekyll.exporter import ExportError, export_jekyll
from blog.content.jekyll.importer import JekyllImporter
from blog.content.media import IMPORT_TYPES, clean_image, media_url, store_media
from blog.content.posts import post_path
from blog.content.redirects import add_redirect
from blog.database import writing
from blog.extensions import db
from blog.models import Media, Post
from tests.conftest import MakePost, app_config

SAMPLE = Path(__file__).parents[3] / "blog" / "sample"
TISTORY = Path(__file__).parents[2] / "fixtures" / "tistory-post.md"
SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
HOSTILE_TITLE = "Colons: \"quoted\" & 'single' # not a comment - [x] {y} a < b > c, 100%: 끝"
# Media URLs in bodies and feature images, resolved to the file they lead to.
_MEDIA_URL = re.compile(r"/media/([0-9a-f]{64})/([^\s\"'<>()]*)")


def write(root: Path, relative: str, content: str | bytes) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)


def png(colour: tuple[int, int, int], size: tuple[int, int] = (30, 20)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, colour).save(output, "PNG")
    return output.getvalue()


def webp_with_gps() -> bytes:
    """A phone's WebP: noisy pixels (encoding them again would show) and EXIF GPS."""
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 0.0), 3: "E", 4: (126.0, 58.0, 0.0)}
    output = io.BytesIO()
    noise = bytes(index * 37 % 251 for index in range(32 * 24 * 3))  # the same every time
    Image.frombytes("RGB", (32, 24), noise).save(output, "WEBP", exif=exif)
    return output.getvalue()


def import_site(root: Path) -> None:
    report = JekyllImporter(root, author=None, fallback_zone=SEOUL, assets_dir=root,
                            now=lambda: NOW).run()  # fmt: skip
    assert not report.failed, [(r.path, r.reason) for r in report.failed]


SPRING = """---
title: '서울의 봄: "첫" 꽃 # 1 - [사진]'
categories: [여행, Daily Life]
tags: 봄 꽃
layout: post
toc: true
wordpress_id: 42
author: {name: 김철수, url: 'https://example.com/'}
redirect_from: [/old/seoul-spring/]
image: /assets/img/cover.png
note: "first line\\n---\\nafter a rule"
---
# 봄

![사진](/assets/img/%EC%82%AC%EC%A7%84.png)

{% raw %}{{ site.title }} stays as written{% endraw %}; {{ site.title }} is the title.
"""
HTML_POST = """---
title: HTML &amp; more
description: 설명 &amp; <b>요약</b>
category: Notes
---
<p onclick="steal()">안녕 <script>bad()</script><img src="/assets/img/사진.png" alt="x"></p>
"""
OLD_SITE = {
    "_config.yml": "title: 옛 블로그\ntimezone: Asia/Seoul\n"
    "permalink: /:categories/:year/:month/:day/:title/\n",
    "_posts/2024-03-01-서울의-봄.md": SPRING,
    "_posts/2024-03-02-html-post.html": HTML_POST,
    "_posts/2027-05-01-future.md": "---\ntitle: Later\n---\nNot yet.\n",
    "_posts/2024-03-03-hidden.md": "---\ntitle: Hidden\nhidden: true\n"
    "permalink: /custom/hidden-post.html\n---\nShh.\n",
    "_drafts/초안.md": "---\ntitle: 초안\ntags: [wip]\n---\n쓰는 중\n",
    "_posts/2024-03-04-unpublished.md": "---\ntitle: Off\npublished: false\n---\nx\n",
    "_posts/2024-03-05-more.md": "---\ntitle: More\nexcerpt_separator: <!--more-->\n"
    "---\nOpening.\n\n<!--more-->\n\nRest.\n\n![밤](/assets/img/밤.webp)\n",
    "_posts/2024-03-06-offset.md": "---\ntitle: Offset\ndate: 2024-03-06 23:30:00 -0400\n---\nx\n",
}


def old_site(root: Path) -> Path:
    """A Jekyll site with the shapes real archives have (see JEKYLL_FACTS.md)."""
    for relative, text in OLD_SITE.items():
        write(root, relative, text)
    write(root, "_posts/2023-05-09-tistory-post.md", TISTORY.read_bytes())
    write(root, "assets/img/사진.png", png((200, 30, 30)))
    write(root, "assets/img/cover.png", png((30, 30, 200), (40, 10)))
    write(root, "assets/img/밤.webp", webp_with_gps())
    return root


@contextmanager
def blog(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def made_in_the_blog(app: Flask, make_post: MakePost) -> None:
    """Posts written in the editor: no import behind them, every status, stored media."""
    with blog(app), writing():
        image = store_media(clean_image(png((10, 160, 10)), 10**6, IMPORT_TYPES), "그림 1.png")
        url = media_url(image)
        big = store_media(clean_image(png((9, 9, 9), (60, 40)), 10**6, IMPORT_TYPES), "큰 그림.png")
        big_url = media_url(big)
    make_post(title=HOSTILE_TITLE, slug="한글-슬러그", status="unlisted",
              source=f"![그림]({url})\n\nText with {{{{ braces }}}} and {{% endraw %}} in it.\n",
              feature_image=url, excerpt="요약: 'quoted' & \"double\"",
              feature_text="특집 # text", tags=("태그", "Two Words"))  # fmt: skip
    make_post(
        title="Scheduled",
        slug="scheduled",
        status="scheduled",
        published_at=datetime(2030, 5, 1, 3, 4, 5, 600, tzinfo=UTC),
    )
    make_post(title="Waiting", slug="waiting", status="pending")
    # Read as HTML, this title would lose its tags and entities: it is written escaped.
    make_post(title="Tags <b>shown</b> &amp; kept", slug="draft-in-editor", status="draft")
    renamed = make_post(
        title="HTML in the editor", slug="renamed", source_format="html",
        source=f'<figure><img src="{url}" srcset="{big_url} 2x"></figure>'
        '<p style="color: red">{% x %}</p>',
        categories=("News",),
    )  # fmt: skip
    with blog(app), writing():
        post = db.session.execute(select(Post).where(Post.slug == renamed)).scalar_one()
        add_redirect(post, "/posts/old-name")
        # Posts published once, then taken back: their old URLs still lead to them.
        for slug, old_paths in (
            ("draft-in-editor", ["/posts/초안-이전", "/2019/01/01/old-draft.html"]),
            ("waiting", ["/posts/waiting-old"]),
        ):
            post = db.session.execute(select(Post).where(Post.slug == slug)).scalar_one()
            for old_path in old_paths:
                add_redirect(post, old_path)


def media_key(match: re.Match[str]) -> str:
    media = db.session.execute(select(Media).where(Media.sha256 == match[1])).scalar_one()
    assert hashlib.sha256(media.data).hexdigest() == media.sha256
    return f"<{media.filename} {media.width}x{media.height} {media.sha256}>"


def snapshot() -> dict[str, dict[str, Any]]:
    """What a reader or the editor sees of every post, media URLs resolved to their file."""
    posts = db.session.execute(
        select(Post).options(undefer(Post.extra), selectinload(Post.categories),
                             selectinload(Post.tags), selectinload(Post.redirects))
    ).scalars()  # fmt: skip
    seen: dict[str, dict[str, Any]] = {}
    for post in posts:
        extra = {k: v for k, v in (post.extra or {}).items()
                 if k not in {"permalink", "redirect_from", "hidden", "image"}}  # fmt: skip
        seen[post.slug] = {
            "title": post.title,
            "status": post.status,
            "published_at": post.published_at,
            "categories": sorted(c.name for c in post.categories),
            "tags": sorted(t.name for t in post.tags),
            "excerpt": post.excerpt,
            "summary": post.summary,
            "feature_text": post.feature_text,
            "feature_image": _MEDIA_URL.sub(media_key, post.feature_image),
            "source_format": post.source_format,
            "body_html": _MEDIA_URL.sub(media_key, post.body_html),
            "reading_minutes": post.reading_minutes,
            "redirects": sorted(r.old_path for r in post.redirects),
            "extra": extra,
        }
    return seen


def tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


def answers(app: Flask, paths: list[str]) -> dict[str, tuple[int, str]]:
    client = app.test_client()
    found = {}
    for path in paths:
        response = client.get(quote(path))
        found[path] = (response.status_code, response.headers.get("Location", ""))
    return found


def test_export_then_import_into_an_empty_blog_gives_the_same_blog(
    app: Flask, make_post: MakePost, tmp_path: Path
) -> None:
    with blog(app):
        import_site(SAMPLE)
        import_site(old_site(tmp_path / "old"))
    made_in_the_blog(app, make_post)
    with blog(app):
        before = snapshot()
        report = export_jekyll(tmp_path / "export")
    assert report.posts == len(before) == 15 and report.drafts == 4 and report.media == 6
    (tmp_path / "b").mkdir()
    other = create_app(app_config(tmp_path / "b"), instance_path=str(tmp_path / "b" / "i"))
    with blog(other):
        db.create_all()
        import_site(tmp_path / "export")
        after = snapshot()
        export_jekyll(tmp_path / "again")
    # Exporting the imported blog writes the same site again, every image byte for byte.
    assert tree(tmp_path / "again") == tree(tmp_path / "export")
    assert set(after) == set(before)
    for slug, fields in before.items():
        assert after[slug] == fields, slug
    assert before["한글-슬러그"]["status"] == "unlisted"
    assert before["scheduled"]["status"] == before["future"]["status"] == "scheduled"
    assert before["초안"]["status"] == "draft" and before["초안"]["published_at"] is None
    # Jekyll has no "waiting for review": `status: pending` in _drafts/ brings it back.
    assert before["waiting"]["status"] == "pending" and before["waiting"]["extra"] == {}
    assert before["draft-in-editor"]["redirects"] == ["/2019/01/01/old-draft", "/posts/초안-이전"]
    assert before["waiting"]["redirects"] == ["/posts/waiting-old"]
    assert before["draft-in-editor"]["title"] == "Tags <b>shown</b> &amp; kept"
    assert "<script" not in before["html-post"]["body_html"]
    assert "{{ site.title }} stays as written" in before["서울의-봄"]["body_html"]
    assert "{% endraw %} in it" in before["한글-슬러그"]["body_html"]
    # The same files at the same URLs: JPEG and WebP too keep their bytes once cleaned
    # (their metadata segments cut out, nothing encoded again), so no URL changes.
    with blog(app):
        urls_before = {media_url(m) for m in db.session.execute(select(Media)).scalars()}
        webp = db.session.execute(select(Media.data).where(Media.filename == "밤.webp"))
        webp_data = webp.scalar_one()
    with blog(other):
        stored = db.session.execute(select(Media)).scalars().all()
        urls_after = {media_url(m) for m in stored}
        assert sorted(m.filename for m in stored) == [
            "cover.png", "newsdao_breakingnews.jpg", "그림 1.png", "밤.webp", "사진.png",
            "큰 그림.png",
        ]  # fmt: skip
    assert urls_after == urls_before
    # The WebP lost its GPS position on the first import, and kept its pixels.
    assert b"Exif" not in webp_data
    with Image.open(io.BytesIO(webp_data)) as kept, Image.open(io.BytesIO(webp_with_gps())) as old:
        assert kept.tobytes() == old.tobytes()
    # The same pages at the same URLs, and old URLs answer 301 to the same places.
    public = [s for s, f in before.items() if f["status"] in {"published", "unlisted"}]
    old_urls = [path for slug in public for path in before[slug]["redirects"]]
    assert "/old/seoul-spring" in old_urls and "/posts/old-name" in old_urls
    assert "/custom/hidden-post" in old_urls
    assert "/여행/daily life/2024/03/01/서울의-봄" in old_urls
    drafts_old_urls = ["/posts/초안-이전", "/2019/01/01/old-draft.html", "/posts/waiting-old"]
    paths = [unquote(post_path(slug)) for slug in public] + old_urls + drafts_old_urls
    answered = answers(app, paths)
    assert answered == answers(other, paths)
    assert all(answered[unquote(post_path(slug))][0] == 200 for slug in public), answered
    assert all(answered[path][0] == 301 for path in old_urls), answered


def exported(app: Flask, make_post: MakePost, tmp_path: Path, **fields: Any) -> str:
    make_post(**fields)
    with blog(app):
        export_jekyll(tmp_path / "site")
    (file,) = [p for p in (tmp_path / "site").rglob("*") if p.suffix in {".md", ".html"}]
    return file.relative_to(tmp_path / "site").as_posix() + "\n" + file.read_text("utf-8")


def front_of(text: str) -> dict[str, Any]:
    return yaml.safe_load(text.split("---\n")[1])


def test_front_matter_is_yaml_with_hangul_readable_and_the_date_in_the_site_zone(
    app: Flask, make_post: MakePost, tmp_path: Path
) -> None:
    text = exported(app, make_post, tmp_path, title=HOSTILE_TITLE, slug="한글-슬러그",
                    published_at=datetime(2024, 7, 21, 15, 30, tzinfo=UTC),
                    categories=("뉴스",), tags=("봄", "Two Words"))  # fmt: skip
    assert text.startswith("_posts/2024-07-22-한글-슬러그.md\n---\n")
    assert "뉴스" in text and "\\u" not in text  # Hangul as Hangul, not escapes
    front = front_of(text)
    assert front["title"] == HOSTILE_TITLE
    assert front["date"] == "2024-07-22 00:30:00 +0900"
    assert front["categories"] == ["뉴스"] and front["tags"] == ["Two Words", "봄"]
    assert front["permalink"] == "/posts/한글-슬러그"
    assert "published" not in front and "hidden" not in front


def test_drafts_go_to_the_drafts_folder_unpublished(
    app: Flask, make_post: MakePost, tmp_path: Path
) -> None:
    text = exported(app, make_post, tmp_path, title="초안", slug="초안", status="draft")
    assert text.startswith("_drafts/초안.md\n")
    front = front_of(text)
    assert front["published"] is False and "permalink" not in front
    assert "status" not in front and "redirect_from" not in front


def test_a_post_waiting_for_review_is_a_draft_that_says_so(
    app: Flask, make_post: MakePost, tmp_path: Path
) -> None:
    slug = make_post(title="검토 중", slug="검토-중", status="pending")
    with blog(app), writing():
        post = db.session.execute(select(Post).where(Post.slug == slug)).scalar_one()
        add_redirect(post, "/posts/검토-전")
    with blog(app):
        export_jekyll(tmp_path / "site")
    text = (tmp_path / "site" / "_drafts" / "검토-중.md").read_text("utf-8")
    front = front_of(text)
    assert front["published"] is False and front["status"] == "pending"
    assert front["redirect_from"] == ["/posts/검토-전"] and "permalink" not in front


def test_a_kept_pending_status_is_not_written_for_a_post_that_waits_no_more(
    app: Flask, make_post: MakePost, tmp_path: Path
) -> None:
    write(tmp_path / "old", "_drafts/wp.md", "---\ntitle: WP\nstatus: Pending\n---\nx\n")
    with blog(app):
        import_site(tmp_path / "old")
        post = db.session.execute(select(Post).where(Post.slug == "wp")).scalar_one()
        assert post.status == "pending" and "status" not in (post.extra or {})
        with writing():
            post.status = "draft"
            post.extra = {"status": "pending"}  # as an older import kept it
        export_jekyll(tmp_path / "site")
    front = front_of((tmp_path / "site" / "_drafts" / "wp.md").read_text("utf-8"))
    assert front["published"] is False and "status" not in front


def test_a_folder_with_files_is_refused_unless_forced_and_nothing_is_deleted(
    app: Flask, make_post: MakePost, tmp_path: Path
) -> None:
    make_post(title="Kept", slug="kept")
    target = tmp_path / "site"
    write(target, "README.md", "mine")
    write(target, "_posts/2020-01-01-mine.md", "---\ntitle: Mine\n---\n")
    with blog(app):
        with pytest.raises(ExportError, match="not empty"):
            export_jekyll(target)
        assert sorted(p.name for p in target.rglob("*")) == [
            "2020-01-01-mine.md", "README.md", "_posts"
        ]  # fmt: skip
        report = export_jekyll(target, force=True)
    assert (target / "README.md").read_text() == "mine"
    assert (target / "_posts/2020-01-01-mine.md").exists()
    assert report.notes == ["_posts/2020-01-01-mine.md was there before and is left as it was"]
    assert (target / "_posts/2024-01-02-kept.md").exists()
    with blog(app), pytest.raises(ExportError, match="is a file"):
        export_jekyll(target / "README.md", force=True)


def test_export_jekyll_command(app: Flask, make_post: MakePost, tmp_path: Path) -> None:
    make_post(title="하나", slug="하나")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["export-jekyll", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Exported 1 post(s) (0 in _drafts) and 0 file(s)" in result.output
    config = yaml.safe_load((tmp_path / "out" / "_config.yml").read_text("utf-8"))
    assert config == {"title": "Test Blog", "timezone": "Asia/Seoul", "permalink": "/posts/:title"}
    again = runner.invoke(args=["export-jekyll", str(tmp_path / "out")])
    assert again.exit_code == 1 and "not empty" in again.output
    forced = runner.invoke(args=["export-jekyll", "--force", str(tmp_path / "out")])
    assert forced.exit_code == 0, forced.output
