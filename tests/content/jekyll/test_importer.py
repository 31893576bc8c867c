"""The Jekyll importer against small sites written for each case real archives contain."""

from __future__ import annotations

import io
import shutil
import threading
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from PIL import Image, ImageCms
from sqlalchemy import event, func, select, text

from blog.content.jekyll.importer import ImportReport, JekyllImporter
from blog.content.redirects import find_redirect
from blog.extensions import db
from blog.models import Category, Media, Post, Redirect, Revision, Tag

SEED = Path(__file__).parents[3] / "blog" / "sample"
SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def write(root: Path, relative: str, content: str | bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def run(path: Path, dry_run: bool = False, **options: Any) -> ImportReport:
    options.setdefault("fallback_zone", SEOUL)
    return JekyllImporter(path, author=None, now=lambda: NOW, **options).run(dry_run=dry_run)


def post(slug: str) -> Post:
    found = db.session.execute(select(Post).where(Post.slug == slug)).scalar_one_or_none()
    assert found is not None, f"no post {slug!r}"
    return found


def result_for(report: ImportReport, path: str) -> Any:
    return next(r for r in report.files if r.path == path)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    return root


pytestmark = pytest.mark.usefixtures("app_ctx")


def test_seed_post_imports_with_all_its_fields() -> None:
    report = run(SEED, assets_dir=SEED)
    assert report.count("imported") == 1 and not report.failed and report.warning_count == 0
    item = post("한미-동맹-지지-대통령실-초당적-의지-공개")
    assert item.title == "한·미 동맹 지지 대통령실 초당적 의지 공개!"
    assert [c.name for c in item.categories] == ["News"]
    assert item.excerpt.startswith("대통령실은 조 바이든 대선 후보 사퇴와 관련해")
    assert item.feature_text == item.excerpt
    assert item.feature_image.startswith("/media/") and item.feature_image.endswith(".jpg")
    assert item.published_at == datetime(2024, 7, 21, 15, 0, tzinfo=UTC)  # midnight in Seoul
    assert item.status == "published" and item.source_format == "markdown"
    assert '<span style="color: #ee2323">' in item.body_html
    assert '<span style="background-color: #21538527">' in item.body_html
    assert (
        '<td style="text-align: center; height: 17px"><b>한·미 동맹 강화 방안</b></td>'
        in item.body_html
    )
    assert '<table style="width: 100%; border-collapse: collapse">' in item.body_html
    assert "<li>다양한 분야에서의 협력 필요</li>" in item.body_html
    assert (
        '<a href="https://newsdao.kr" rel="noopener noreferrer">https://newsdao.kr</a>'
        in item.body_html
    )
    assert item.feature_image in item.body_html  # the body's image was rewritten too
    assert find_redirect("/news/2024/07/22/한미-동맹-지지-대통령실-초당적-의지-공개.html") is item


def test_posts_at_any_depth_take_folder_categories_first(site: Path) -> None:
    write(site, "_config.yml", "title: t\n")
    write(site, "news/_posts/2024-01-02-a.md", "---\ntitle: A\ncategories: [Politics]\n---\nx")
    write(site, "_posts/java/2024-01-03-b.md", "---\ntitle: B\n---\nx")
    report = run(site)
    assert report.count("imported") == 2
    assert {c.name for c in post("a").categories} == {"news", "Politics"}
    assert post("b").categories == []  # folders inside _posts are not categories (Jekyll)
    assert find_redirect("/news/politics/2024/01/02/a.html") is post("a")


def test_drafts_folder_imports_as_drafts_without_redirects(site: Path) -> None:
    write(site, "_drafts/my-draft.md", "---\ntitle: Draft\n---\nwip")
    report = run(site)
    item = post("my-draft")
    assert item.status == "draft" and item.published_at is None
    assert report.drafts == 1 and item.redirects == []


def test_a_draft_keeps_the_old_urls_its_redirect_from_names_but_gets_no_permalink(
    site: Path,
) -> None:
    write(site, "_drafts/taken-back.md", "---\ntitle: 다시 초안\npermalink: /custom/x/\n"
          "redirect_from: [/posts/옛-주소, /2020/01/01/taken-back.html]\n---\nwip")  # fmt: skip
    run(site)
    item = post("taken-back")
    assert item.status == "draft"
    assert sorted(r.old_path for r in item.redirects) == [
        "/2020/01/01/taken-back", "/posts/옛-주소"
    ]  # fmt: skip
    assert find_redirect("/custom/x/") is None  # Jekyll never built a draft there


def test_status_pending_on_an_unpublished_post_waits_for_review(site: Path) -> None:
    write(site, "_drafts/review.md", "---\ntitle: R\npublished: false\nstatus: pending\n---\nx")
    write(site, "_posts/2024-01-01-wp.md", "---\npublished: false\nstatus: Pending\n---\nx")
    write(site, "_posts/2024-01-02-live.md", "---\nstatus: pending\nwordpress_id: 3\n---\nx")
    report = run(site)
    assert post("review").status == post("wp").status == "pending"
    assert "status" not in post("review").extra and report.drafts == 2
    # Published in Jekyll: live whatever its status key says (kept with the other keys).
    assert post("live").status == "published" and post("live").extra["status"] == "pending"


def test_markdown_markdown_and_html_extensions(site: Path) -> None:
    write(site, "_posts/2024-01-01-md.md", "---\ntitle: md\n---\n*em*")
    write(site, "_posts/2024-01-02-long.markdown", "---\ntitle: long\n---\n**strong**")
    write(site, "_posts/2024-01-03-page.html", "---\ntitle: html\n---\n<p>*as is*</p>")
    write(site, "_posts/notes.txt", "not a post")
    report = run(site)
    assert "<em>em</em>" in post("md").body_html
    assert "<strong>strong</strong>" in post("long").body_html
    assert post("page").source_format == "html" and "<p>*as is*</p>" in post("page").body_html
    assert result_for(report, "_posts/notes.txt").outcome == "skipped"


def test_front_matter_date_overrides_the_file_name(site: Path) -> None:
    write(site, "_posts/2024-01-01-a.md", "---\ndate: 2024-05-20 10:20:00 +0900\n---\nx")
    write(site, "_posts/2024-01-01-b.md", "---\ndate: 2024-05-20 10:20:00 +09:00\n---\nx")
    write(site, "_posts/2024-01-01-c.md", "---\ndate: 2024-05-20 10:20:00\n---\nx")
    write(site, "_posts/2024-01-01-d.md", "---\ndate: 2024-05-21\n---\nx")
    write(site, "_posts/2024-01-01-e.md", "---\ntitle: no date\n---\nx")
    run(site)
    expected = datetime(2024, 5, 20, 1, 20, tzinfo=UTC)
    assert post("a").published_at == post("b").published_at == post("c").published_at == expected
    assert post("d").published_at == datetime(2024, 5, 20, 15, 0, tzinfo=UTC)
    assert post("e").published_at == datetime(2023, 12, 31, 15, 0, tzinfo=UTC)


def test_unreadable_date_falls_back_to_the_file_name_with_a_warning(site: Path) -> None:
    write(site, "_posts/2024-03-04-a.md", "---\ndate: sometime\n---\nx")
    report = run(site)
    assert post("a").published_at == datetime(2024, 3, 3, 15, 0, tzinfo=UTC)
    assert "unreadable date" in result_for(report, "_posts/2024-03-04-a.md").warnings[0]


def test_missing_title_comes_from_the_slug(site: Path) -> None:
    write(site, "_posts/2024-01-01-hello-jekyll-world.md", "---\nlayout: post\n---\nx")
    write(site, "_posts/2024-01-02-no-front-matter.md", "Just text.\n")
    report = run(site)
    assert post("hello-jekyll-world").title == "Hello Jekyll World"
    assert post("no-front-matter").title == "No Front Matter"
    assert (
        "no front matter" in result_for(report, "_posts/2024-01-02-no-front-matter.md").warnings[0]
    )


@pytest.mark.parametrize(
    ("front", "categories", "tags"),
    [
        ("categories:\n  - A\n  - B\ntags:\n  - x", ["A", "B"], ["x"]),
        ("categories: [A, B]\ntags: [x, y]", ["A", "B"], ["x", "y"]),
        ("categories: A B\ntags: x y", ["A", "B"], ["x", "y"]),
        ("category: Web Dev\ntag: one tag", ["Web Dev"], ["one tag"]),
        ("category: 2024\ntags: []", ["2024"], []),
        ("categories:\ntags:", [], []),
    ],
)
def test_categories_and_tags_in_every_shape(
    site: Path, front: str, categories: list[str], tags: list[str]
) -> None:
    write(site, "_posts/2024-01-01-a.md", f"---\n{front}\n---\nx")
    run(site)
    item = post("a")
    assert sorted(c.name for c in item.categories) == sorted(categories)
    assert sorted(t.name for t in item.tags) == sorted(tags)


def test_excerpt_sources_in_order_of_preference(site: Path) -> None:
    write(site, "_posts/2024-01-01-fm.md", "---\nexcerpt: From front matter\n---\nBody.")
    write(site, "_posts/2024-01-02-desc.md", "---\ndescription: From description\n---\nBody.")
    write(
        site,
        "_posts/2024-01-03-more.md",
        "---\n---\nIntro *here*.\n\nMore intro.\n<!--more-->\nRest.",
    )
    write(
        site,
        "_posts/2024-01-04-sep.md",
        "---\nexcerpt_separator: <!--cut-->\n---\nA\n\nB<!--cut-->C",
    )
    write(
        site,
        "_posts/2024-01-05-first.md",
        "---\n---\n![img](/a.png)\n\nFirst paragraph.\n\nSecond.",
    )
    run(site)
    assert post("fm").excerpt == "From front matter"
    assert post("desc").excerpt == "From description"
    assert post("more").excerpt == "Intro here. More intro."
    assert post("sep").excerpt == "A B"
    assert post("first").excerpt == "" and post("first").summary == "First paragraph."


def test_site_excerpt_separator_applies(site: Path) -> None:
    write(site, "_config.yml", "excerpt_separator: <!--excerpt-->\n")
    write(site, "_posts/2024-01-01-a.md", "---\n---\nOne\n\nTwo\n<!--excerpt-->\nThree")
    run(site)
    assert post("a").excerpt == "One Two"


def test_feature_text_and_image_string_or_mapping(site: Path) -> None:
    write(site, "_posts/2024-01-01-a.md", "---\nfeature_text: Lead\nimage: /img/a.jpg\n---\nx")
    write(
        site, "_posts/2024-01-02-b.md", "---\nimage:\n  feature: /img/b.jpg\n  credit: me\n---\nx"
    )
    write(site, "_posts/2024-01-03-c.md", "---\nheader:\n  teaser: /img/c.jpg\n---\nx")
    run(site)
    assert post("a").feature_text == "Lead" and post("a").feature_image == "/img/a.jpg"
    assert post("b").feature_image == "/img/b.jpg"
    assert post("b").extra["image"] == {"feature": "/img/b.jpg", "credit": "me"}
    assert post("c").feature_image == "/img/c.jpg"


def test_feature_images_the_editor_would_refuse_are_left_out_with_a_warning(site: Path) -> None:
    write(site, "_posts/2024-01-01-js.md", "---\nimage: javascript:alert(1)\n---\nx")
    write(site, "_posts/2024-01-02-http.md", "---\nimage: http://old.example/a.jpg\n---\nx")
    write(site, "_posts/2024-01-03-bare.md", "---\nimage: assets/img/a.jpg\n---\nx")
    write(site, "_posts/2024-01-04-https.md", "---\nimage: https://cdn.example/a.jpg\n---\nx")
    report = run(site)
    assert post("js").feature_image == "" and post("http").feature_image == ""
    assert post("http").extra["image"] == "http://old.example/a.jpg"  # kept for an export
    assert post("bare").feature_image == "/assets/img/a.jpg"
    assert post("https").feature_image == "https://cdn.example/a.jpg"
    warned = result_for(report, "_posts/2024-01-01-js.md").warnings
    assert any("left out" in warning for warning in warned)


def test_published_false_future_and_hidden(site: Path) -> None:
    write(site, "_posts/2024-01-01-off.md", "---\npublished: false\n---\nx")
    write(site, "_posts/2030-01-01-future.md", "---\n---\nx")
    write(site, "_posts/2024-01-02-hidden.md", "---\nhidden: true\n---\nx")
    report = run(site)
    assert post("off").status == "draft"
    assert post("future").status == "scheduled"
    assert post("hidden").status == "unlisted"
    assert report.drafts == 1


def test_permalink_and_redirect_from_become_redirects(site: Path) -> None:
    write(
        site,
        "_posts/2024-01-01-a.md",
        "---\npermalink: /custom/:title/\nredirect_from:\n  - /old-a/\n  - /older/a.html\n---\nx",
    )
    write(site, "_posts/2024-01-02-b.md", "---\nredirect_from: /b-old\n---\nx")
    run(site)
    assert find_redirect("/custom/a/") is post("a")
    assert find_redirect("/old-a") is post("a")
    assert find_redirect("/older/a.html") is post("a")
    assert find_redirect("/b-old/") is post("b")
    assert find_redirect("/2024/01/02/b.html") is post("b")
    assert find_redirect("/2024/01/01/a.html") is None  # a permalink replaces the style URL


def test_an_old_url_too_long_to_keep_is_a_warning_on_either_database(site: Path) -> None:
    long = "/" + "아" * 1200
    write(site, "_posts/2024-01-01-a.md", f"---\nredirect_from: [{long}, /kept]\n---\nx")
    report = run(site)
    assert not report.failed  # the post is imported; only that address is left out
    [warning] = [w for f in report.files for w in f.warnings if "longer than" in w]
    assert "longer than 1000 characters" in warning
    assert find_redirect("/kept") is post("a") and find_redirect(long) is None


def test_config_permalink_timezone_baseurl_and_defaults(site: Path) -> None:
    write(
        site,
        "_config.yml",
        "permalink: pretty\ntimezone: America/New_York\nbaseurl: /theme\n"
        "defaults:\n  - scope:\n      path: ''\n      type: posts\n"
        "    values:\n      layout: single\n"
        "      comments: true\n  - scope:\n      path: 'docs'\n    values:\n      toc: true\n",
    )
    write(site, "_posts/2024-01-01-a.md", "---\ndate: 2024-01-01 23:30:00\ncategories: Go\n---\nx")
    run(site)
    item = post("a")
    assert item.published_at == datetime(2024, 1, 2, 4, 30, tzinfo=UTC)
    assert find_redirect("/go/2024/01/01/a/") is item
    assert find_redirect("/theme/go/2024/01/01/a/") is item
    assert item.extra["layout"] == "single" and item.extra["comments"] is True
    assert "toc" not in item.extra


def test_bom_crlf_and_mixed_line_ends(site: Path) -> None:
    write(
        site,
        "_posts/2024-01-01-a.md",
        "\ufeff---\r\ntitle: BOM\r\n---\r\nLine one\nLine two\r\n".encode(),
    )
    report = run(site)
    assert post("a").title == "BOM" and "\r" not in post("a").source
    assert any(
        "byte order mark" in w for w in result_for(report, "_posts/2024-01-01-a.md").warnings
    )


def test_cp949_files_are_read_with_a_warning(site: Path) -> None:
    write(site, "_posts/2024-01-01-a.md", "---\ntitle: 한국어 제목\n---\n본문".encode("cp949"))
    report = run(site)
    assert post("a").title == "한국어 제목"
    assert "CP949" in result_for(report, "_posts/2024-01-01-a.md").warnings[0]


def test_liquid_is_resolved_or_reported(site: Path) -> None:
    write(site, "_posts/2024-01-01-target-post.md", "---\ntitle: Target\n---\nx")
    write(
        site,
        "_posts/2024-01-02-liquid.md",
        "---\ntitle: Liquid\n---\n"
        "[link]({% post_url 2024-01-01-target-post %})\n\n"
        "![img]({{ site.baseurl }}/assets/a.png)\n\n"
        "{% raw %}{{ page.title }}{% endraw %} is {{ page.title }}\n\n"
        "{% highlight python %}\nx = 1 < 2\n{% endhighlight %}\n\n"
        "{% include ad.html %}\n",
    )
    report = run(site)
    item = post("liquid")
    assert '<a href="/posts/target-post"' in item.body_html
    assert '<img alt="img" src="/assets/a.png" loading="lazy">' in item.body_html
    assert "{{ page.title }} is Liquid" in item.body_html
    # {% highlight %} is highlighted like a fenced block.
    assert '<div class="highlight"><pre><span></span><code><span class="n">x' in item.body_html
    assert '<span class="o">&lt;</span> <span class="mi">2</span>' in item.body_html
    assert "{% include ad.html %}" in item.body_html
    warnings = result_for(report, "_posts/2024-01-02-liquid.md").warnings
    assert any("{% include %}" in w for w in warnings)


def test_broken_yaml_is_recovered_with_a_warning(site: Path) -> None:
    write(
        site,
        "_posts/2024-01-01-a.md",
        "---\ntitle: [파이썬] 10951번: A+B - 4\ncategories: Base\t\n---\nx",
    )
    report = run(site)
    assert post("a").title == "[파이썬] 10951번: A+B - 4"
    assert [c.name for c in post("a").categories] == ["Base"]
    assert "not valid YAML" in result_for(report, "_posts/2024-01-01-a.md").warnings[0]


def test_a_bad_file_is_reported_by_name_and_reason_while_the_rest_imports(site: Path) -> None:
    write(site, "_posts/2024-01-01-good.md", "---\ntitle: Good\n---\nx")
    write(site, "_posts/2024-01-02-binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00garbage")
    write(site, "_posts/2024-01-03-list.md", "---\n- just\n- a list\n---\nx")
    write(site, "_posts/2024-13-45-bad-date.md", "---\ntitle: x\n---\nx")
    write(site, "_posts/undated-post.md", "---\ntitle: x\n---\nx")
    report = run(site)
    failed = {r.path: r.reason for r in report.failed}
    assert set(failed) == {
        "_posts/2024-01-02-binary.md",
        "_posts/2024-01-03-list.md",
        "_posts/2024-13-45-bad-date.md",
    }
    assert "binary" in failed["_posts/2024-01-02-binary.md"]
    assert "not a mapping" in failed["_posts/2024-01-03-list.md"]
    assert "date" in failed["_posts/2024-13-45-bad-date.md"]
    assert "YYYY-MM-DD" in result_for(report, "_posts/undated-post.md").reason
    assert post("good").title == "Good"


def test_duplicate_slugs_get_unique_slugs(site: Path) -> None:
    write(site, "_posts/2024-01-01-same.md", "---\ntitle: One\n---\nx")
    write(site, "_posts/2024-02-01-same.md", "---\ntitle: Two\n---\nx")
    write(site, "news/_posts/2024-03-01-Same.md", "---\ntitle: Three\n---\nx")
    run(site)
    assert {post("same").title, post("same-2").title, post("same-3").title} == {
        "One",
        "Two",
        "Three",
    }


def test_reimport_updates_in_place(site: Path) -> None:
    path = write(site, "_posts/2024-01-01-a.md", "---\ntitle: First\ntags: [x]\n---\nv1")
    first = run(site)
    path.write_text("---\ntitle: Second\ntags: [y]\n---\nv2", encoding="utf-8")
    second = run(site)
    assert first.count("imported") == 1 and second.count("updated") == 1
    assert db.session.execute(select(func.count(Post.id))).scalar_one() == 1
    item = post("a")
    assert (
        item.title == "Second" and "v2" in item.body_html and [t.name for t in item.tags] == ["y"]
    )
    assert db.session.execute(select(func.count(Redirect.id))).scalar_one() == 1


def test_unknown_front_matter_keys_are_kept(site: Path) -> None:
    write(
        site,
        "_posts/2024-01-01-a.md",
        "---\ntitle: A\nlayout: post\nwordpress_id: 42\ntoc: true\nauthor: 홍길동\n"
        "last_modified_at: 2024-02-01 10:00:00 +0900\n---\nx",
    )
    run(site)
    item = post("a")
    assert item.extra == {
        "layout": "post",
        "wordpress_id": 42,
        "toc": True,
        "author": "홍길동",
        "last_modified_at": "2024-02-01 10:00:00 +0900",
    }
    assert item.updated_at == datetime(2024, 2, 1, 1, 0, tzinfo=UTC)


def test_kramdown_toc_marker_becomes_a_table_of_contents(site: Path) -> None:
    write(site, "_posts/2024-01-01-a.md", "---\n---\n* TOC\n{:toc}\n\n## 첫 번째\n\ntext\n")
    run(site)
    assert 'href="#첫-번째"' in post("a").body_html


def test_assets_are_stored_and_missing_ones_reported(site: Path) -> None:
    shutil.copy(SEED / "assets/img/newsdao_breakingnews.jpg", write(site, "assets/img/a.jpg", b""))
    write(site, "assets/img/fake.png", "this is text, not an image")
    write(
        site,
        "assets/img/diagram.svg",
        '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
    )
    write(site, "images/cover.jpg", (SEED / "assets/img/newsdao_breakingnews.jpg").read_bytes())
    write(
        site,
        "_posts/2024-01-01-a.md",
        "---\nimage: /assets/img/a.jpg\n---\n![a](/assets/img/a.jpg)\n\n"
        '<img src="{{ site.baseurl }}/assets/img/missing.png">\n\n![f](/assets/img/fake.png)\n\n'
        "![remote](https://example.com/x.png)\n\n![d](/assets/img/diagram.svg)",
    )
    write(site, "_posts/2024-01-02-b.md", "---\nimage: cover.jpg\n---\nx")
    report = run(site, assets_dir=site)
    item = post("a")
    media = {m.content_type: m for m in db.session.execute(select(Media)).scalars()}
    assert set(media) == {"image/jpeg", "image/svg+xml"}  # a.jpg and cover.jpg are one file
    jpeg = media["image/jpeg"]
    assert item.feature_image == f"/media/{jpeg.sha256}/a.jpg"
    assert f'src="/media/{jpeg.sha256}/a.jpg"' in item.body_html
    assert f'src="/media/{media["image/svg+xml"].sha256}/diagram.svg"' in item.body_html
    assert post("b").feature_image == f"/media/{jpeg.sha256}/a.jpg"  # found by its name
    assert "https://example.com/x.png" in item.body_html
    warnings = result_for(report, "_posts/2024-01-01-a.md").warnings
    assert any("missing.png" in w and "not found" in w for w in warnings)
    assert any("fake.png" in w and "not a JPEG" in w for w in warnings)


def test_dry_run_saves_nothing(site: Path) -> None:
    write(site, "_posts/2024-01-01-a.md", "---\ntitle: A\n---\nx")
    report = run(site, dry_run=True)
    assert report.count("imported") == 1 and report.dry_run
    assert db.session.execute(select(func.count(Post.id))).scalar_one() == 0


def test_hangul_file_names_with_spaces_and_brackets(site: Path) -> None:
    write(site, "_posts/2024-01-01-[자바] 기초 문법 (1).md", "---\ncategories: 자바\n---\nx")
    run(site)
    item = post("자바-기초-문법-1")
    assert item.title == "[자바] 기초 문법 (1)"
    assert find_redirect("/자바/2024/01/01/-자바-기초-문법-(1).html") is None
    assert find_redirect("/자바/2024/01/01/자바-기초-문법-(1).html") is item


def test_a_folder_of_posts_can_be_given_directly(site: Path, app: Flask) -> None:
    write(site, "2024-01-01-a.md", "---\ntitle: A\n---\nx")
    report = run(site)
    assert report.count("imported") == 1 and post("a").title == "A"


def test_jekyll_ignored_names_and_files_beside_posts(site: Path) -> None:
    write(site, "_posts/2024-01-01-a.md", "---\n---\nx")
    write(site, "_posts/_notes/2024-01-02-hidden.md", "---\n---\nx")
    write(site, "_posts/_partial-2024-01-03-b.md", "---\n---\nx")
    write(site, "_posts/2024-01-01-a/diagram.png", b"\x89PNG\r\n\x1a\n")
    write(site, "_posts/notes.txt", "x")
    report = run(site)
    assert [r.path for r in report.files if r.outcome == "imported"] == ["_posts/2024-01-01-a.md"]
    reasons = {r.path: r.reason for r in report.files if r.outcome == "skipped"}
    assert set(reasons) == {"_posts/_partial-2024-01-03-b.md", "_posts/notes.txt"}
    assert "starts with _" in reasons["_posts/_partial-2024-01-03-b.md"]


def test_kramdown_parse_block_html_reads_markdown_inside_details(site: Path) -> None:
    body = "---\n---\n<details>\n<summary>More</summary>\n\n**bold**\n\n</details>\n"
    write(site, "_posts/2024-01-01-raw.md", body)
    run(site)
    assert "**bold**" in post("raw").body_html  # kramdown's default: HTML blocks stay raw
    write(site, "_config.yml", "kramdown:\n  parse_block_html: true\n")
    run(site)
    assert "<strong>bold</strong>" in post("raw").body_html


def test_tistory_editor_markup_survives_with_its_formatting(site: Path) -> None:
    fixture = Path(__file__).parents[2] / "fixtures" / "tistory-post.md"
    write(site, "_posts/2023-05-09-tistory-post.md", fixture.read_bytes())
    report = run(site)
    assert report.warning_count == 0
    html = post("tistory-post").body_html
    assert "<blockquote>\n<p>원문:" in html  # the Markdown before the HTML block
    assert "<span style=\"font-family: 'Noto Serif KR'\">" in html
    assert '<h3 id="소제목" data-ke-size="size23">소제목</h3>' in html  # anchored
    assert '<p style="text-align: center" data-ke-size="size18">' in html
    assert '<span style="color: #006dd7"><b>가운데 파란 글씨</b></span>' in html
    assert '<pre id="code_1778247505700" class="bash" data-ke-language="bash"' in html
    assert "if (x &gt; 10) {\n  foo();\n}</code></pre>" in html
    assert '<ul style="list-style-type: disc" data-ke-list-type="disc">\n<li>첫째 항목</li>' in html
    assert '<table style="border-collapse: collapse; width: 100%" border="1"' in html
    assert '<td style="width: 50%; background-color: #f6e199">기존 입력을 바꿈</td>' in html
    assert '<img src="https://blog.kakaocdn.net/dn/abc/img.png"' in html
    assert "<figcaption>그림 설명</figcaption>" in html
    assert '<hr data-ke-type="horizontalRule" data-ke-style="style5">' in html
    assert "onerror" not in html and "contenteditable" not in html and "data-start" not in html


# -- hostile and heavy archives ---------------------------------------------------------


def yaml_alias_bomb() -> str:
    """397 bytes of front matter: anchors nested 7 deep, 10 aliases each (10^7 values)."""
    lines = ["title: Bomb", 'l0: &l0 ["lol"]']
    for level in range(1, 8):
        lines.append(f"l{level}: &l{level} [{','.join([f'*l{level - 1}'] * 10)}]")
    return "---\n" + "\n".join(lines) + "\n---\nbody\n"


def test_a_yaml_alias_bomb_fails_alone_quickly_while_the_rest_imports(site: Path) -> None:
    bomb = yaml_alias_bomb()
    assert len(bomb.encode()) < 420
    write(site, "_posts/2024-01-01-bomb.md", bomb)
    write(site, "_posts/2024-01-02-fine.md", "---\ntitle: Fine\nlayout: post\n---\nx")
    tracemalloc.start()
    try:
        report = run(site)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    failed = {r.path: r.reason for r in report.failed}
    assert list(failed) == ["_posts/2024-01-01-bomb.md"]
    assert "aliases" in failed["_posts/2024-01-01-bomb.md"]
    assert post("fine").extra == {"layout": "post"}
    assert peak < 50 * 1024 * 1024  # expanded and stored, it took 2 GB


def test_an_alias_bomb_in_the_config_is_a_warning_and_jekyll_defaults_apply(site: Path) -> None:
    write(site, "_config.yml", yaml_alias_bomb().split("---\n")[1])
    write(site, "_posts/2024-01-02-fine.md", "---\ntitle: Fine\n---\nx")
    report = run(site)
    assert any("_config.yml" in w and "aliases" in w for w in report.site_warnings)
    assert report.count("imported") == 1


def test_unknown_keys_are_kept_up_to_64_kb_and_the_rest_named(site: Path) -> None:
    big = "x" * 70_000
    write(
        site,
        "_posts/2024-01-01-a.md",
        f"---\ntitle: A\nlayout: post\nhuge: {big}\nlast: kept\n---\nx",
    )
    report = run(site)
    assert post("a").extra == {"layout": "post", "last": "kept"}
    warnings = result_for(report, "_posts/2024-01-01-a.md").warnings
    assert any("huge" in w and "64 KB" in w for w in warnings)


def test_list_pages_never_load_the_extra_column(site: Path, app: Flask) -> None:
    write(site, "_posts/2024-01-01-a.md", "---\ntitle: A\ncategories: [c]\ntags: [t]\n---\nx")
    run(site)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        for page in ("/", "/category/c", "/tag/t"):
            assert app.test_client().get(page).status_code == 200, page
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    post_queries = [s for s in statements if "FROM posts" in s]
    assert post_queries and not any("posts.extra" in s for s in post_queries)


def test_imported_images_lose_their_gps_exif_and_keep_their_colour_profile(site: Path) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 0.0), 3: "E", 4: (126.0, 58.0, 0.0)}
    photo = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 220)).save(
        photo, "JPEG", exif=exif, icc_profile=srgb, comment=b"SECRET-COMMENT"
    )
    assert b"SecretCam" in photo.getvalue()
    write(site, "assets/img/trip.jpg", photo.getvalue())
    write(
        site,
        "_posts/2024-01-01-a.md",
        "---\nimage: /assets/img/trip.jpg\n---\n![t](/assets/img/trip.jpg)",
    )
    report = run(site, assets_dir=site)
    assert not report.failed
    media = db.session.execute(select(Media)).scalar_one()
    assert post("a").feature_image == f"/media/{media.sha256}/trip.jpg"
    assert b"SecretCam" not in media.data and b"SECRET-COMMENT" not in media.data
    with Image.open(io.BytesIO(media.data)) as stored:
        assert not stored.getexif() and "exif" not in stored.info
        assert "comment" not in stored.info
        assert stored.info["icc_profile"] == srgb


def test_an_image_that_cannot_be_cleaned_is_left_out_with_a_warning(site: Path) -> None:
    write(site, "assets/broken.svg", '<svg xmlns="http://www.w3.org/2000/svg"><g></svg>')
    write(site, "_posts/2024-01-01-a.md", "---\n---\n![b](/assets/broken.svg)")
    report = run(site, assets_dir=site)
    assert db.session.execute(select(func.count(Media.id))).scalar_one() == 0
    warnings = result_for(report, "_posts/2024-01-01-a.md").warnings
    assert any("broken.svg" in w and "damaged or incomplete" in w for w in warnings)
    assert "/assets/broken.svg" in post("a").source


def test_posts_are_prepared_outside_and_stored_in_batches(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blog.content.jekyll import importer

    for number in range(1, 231):
        write(site, f"_posts/2024-01-01-p{number}.md", f"---\ntitle: P{number}\n---\nbody {number}")
    transactions, inside = 0, False
    real_writing, real_render, real_redirect = (
        importer.writing,
        importer.render_body_within_budget,
        importer.add_redirect,
    )

    @contextmanager
    def counting_writing() -> Iterator[Any]:
        nonlocal transactions, inside
        transactions += 1
        with real_writing() as session:
            inside = True
            try:
                yield session
            finally:
                inside = False

    def render_outside(*args: Any, **kwargs: Any) -> Any:
        # Workers may render the next batch meanwhile; the writer itself never renders.
        writer = threading.current_thread() is threading.main_thread()
        assert not (inside and writer), "rendering inside the write transaction"
        return real_render(*args, **kwargs)

    def redirect_or_fail(post: Post, old_path: str, *known: Any) -> str | None:
        if post.slug == "p150":
            raise RuntimeError("one post breaks")
        return real_redirect(post, old_path, *known)

    monkeypatch.setattr(importer, "writing", counting_writing)
    monkeypatch.setattr(importer, "render_body_within_budget", render_outside)
    monkeypatch.setattr(importer, "add_redirect", redirect_or_fail)
    progress: list[int] = []
    report = JekyllImporter(
        site, author=None, fallback_zone=SEOUL, now=lambda: NOW,
        progress=lambda index, total, result: progress.append(index),
    ).run()  # fmt: skip
    # 100 + 100 + 30 posts; the second batch once more, a savepoint per post, after p150 failed.
    assert transactions == 4
    assert progress == list(range(1, 231))
    assert [(r.path, r.reason) for r in report.failed] == [
        ("_posts/2024-01-01-p150.md", "RuntimeError: one post breaks")
    ]
    assert db.session.execute(select(func.count(Post.id))).scalar_one() == 229
    assert db.session.execute(select(func.count(Redirect.id))).scalar_one() == 229


@contextmanager
def statements_run() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_a_batch_where_one_post_fails_in_the_database_stores_the_others(site: Path) -> None:
    # A real refusal by the database (as a constraint would refuse), not by our code.
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text(
                "CREATE FUNCTION refuse_p7() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.slug = 'p7' THEN RAISE EXCEPTION 'p7 refused'; END IF; RETURN NEW; "
                "END $$"
            )
        )
        db.session.execute(
            text(
                "CREATE TRIGGER refuse_p7 BEFORE INSERT ON posts FOR EACH ROW "
                "EXECUTE FUNCTION refuse_p7()"
            )
        )
    else:
        db.session.execute(
            text(
                "CREATE TRIGGER refuse_p7 BEFORE INSERT ON posts WHEN NEW.slug = 'p7' "
                "BEGIN SELECT RAISE(ABORT, 'p7 refused'); END"
            )
        )
    db.session.commit()
    for number in range(1, 11):
        write(site, f"_posts/2024-01-01-p{number}.md", f"---\ntags: [t{number}, all]\n---\nx")
    write(site, "_posts/2024-01-02-other.md", "---\nredirect_from: /old-p7\n---\ny")
    report = run(site)
    [failed] = report.failed
    assert failed.path == "_posts/2024-01-01-p7.md" and "p7 refused" in failed.reason
    slugs = db.session.execute(select(Post.slug).order_by(Post.slug)).scalars()
    assert set(slugs) == {f"p{n}" for n in range(1, 11) if n != 7} | {"other"}
    assert {t.name for t in post("p8").tags} == {"t8", "all"}
    # The refused post left nothing behind: not its new tag, its redirect or a revision.
    tags = db.session.execute(select(Tag.name)).scalars()
    assert "t7" not in set(tags)
    assert db.session.execute(select(func.count(Redirect.id))).scalar_one() == 11
    assert db.session.execute(select(func.count(Revision.id))).scalar_one() == 10
    assert not any(r.warnings for r in report.files)


def test_a_batch_that_saves_takes_no_savepoints(site: Path) -> None:
    for number in range(1, 6):
        write(site, f"_posts/2024-01-01-p{number}.md", f"---\ntags: [t, u{number}]\n---\nx")
    with statements_run() as statements:
        report = run(site)
    assert report.count("imported") == 5 and not report.failed
    assert not [s for s in statements if "SAVEPOINT" in s.upper()]
    # The batch's old URLs are looked up together, not post by post.
    assert len([s for s in statements if s.startswith("SELECT") and "FROM redirects" in s]) == 1


def test_an_old_url_two_posts_of_one_batch_claim_leads_to_the_first(site: Path) -> None:
    write(site, "_posts/2024-01-01-a.md", "---\nredirect_from: [/shared, /a-old]\n---\nx")
    write(site, "_posts/2024-01-02-b.md", "---\nredirect_from: [/shared/]\n---\ny")
    report = run(site)
    assert result_for(report, "_posts/2024-01-02-b.md").warnings == [
        "old URL '/shared/' already leads to another post; kept that one"
    ]
    assert find_redirect("/shared").slug == "a"
    assert find_redirect("/a-old").slug == "a"
    assert find_redirect("/2024/01/02/b").slug == "b"


def test_a_dry_run_with_assets_saves_no_post_and_no_image(site: Path) -> None:
    shutil.copy(SEED / "assets/img/newsdao_breakingnews.jpg", write(site, "assets/a.jpg", b""))
    write(
        site, "_posts/2024-01-01-a.md", "---\ntitle: A\ncategories: [New]\n---\n![a](/assets/a.jpg)"
    )
    report = run(site, dry_run=True, assets_dir=site)
    assert report.count("imported") == 1 and not report.failed
    for model in (Post, Media, Redirect):
        assert db.session.execute(select(func.count(model.id))).scalar_one() == 0


def test_each_markdown_body_is_rendered_once(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from blog.content import markup

    rendered: list[str] = []
    real_render = markup.render_in_worker

    def counting_render(source: str, source_format: str, *args: Any) -> str:
        rendered.append(source)
        return real_render(source, source_format, *args)

    monkeypatch.setattr(markup, "render_in_worker", counting_render)
    shutil.copy(SEED / "assets/img/newsdao_breakingnews.jpg", write(site, "assets/a.jpg", b""))
    for number in range(1, 4):
        write(site, f"_posts/2024-01-0{number}-m{number}.md", f"---\n---\nBody *{number}*\n")
    write(site, "_posts/2024-01-04-pic.md", "---\n---\nSee ![a](/assets/a.jpg)\n")
    write(site, "_posts/2024-01-05-h.html", "---\n---\n<p>Plain HTML</p>\n")
    run(site, assets_dir=site)
    # Each Markdown body once (the HTML post is only sanitised); the post whose image
    # moved to the media store once more, with the image's new URL.
    moved = [source for source in rendered if "/media/" in source]
    assert sorted(set(rendered) - set(moved)) == [
        "Body *1*\n",
        "Body *2*\n",
        "Body *3*\n",
        "See ![a](/assets/a.jpg)\n",
    ]
    assert len(moved) == 1 and len(rendered) == 5
    assert post("m2").body_html == markup.render_body("Body *2*\n", "markdown")
    # Saving gives the stored image its size (and every image lazy loading).
    stored = markup.render_body(moved[0], "markdown")
    assert post("pic").body_html == stored.replace(
        '">', '" width="1200" height="630" loading="lazy">'
    )


def test_a_post_rolled_back_leaves_its_new_tag_to_the_next_post_of_the_batch(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blog.content.jekyll import importer

    real_redirect = importer.add_redirect

    def redirect_or_fail(post: Post, old_path: str, *known: Any) -> str | None:
        if post.slug == "first":
            raise RuntimeError("one post breaks")
        return real_redirect(post, old_path, *known)

    monkeypatch.setattr(importer, "add_redirect", redirect_or_fail)
    write(site, "_posts/2024-01-01-first.md", "---\ntags: [새 태그]\ncategories: [New]\n---\nx")
    write(site, "_posts/2024-01-02-second.md", "---\ntags: [새 태그]\ncategories: [New]\n---\ny")
    report = run(site)
    assert [r.path for r in report.failed] == ["_posts/2024-01-01-first.md"]
    second = post("second")
    assert [t.name for t in second.tags] == ["새 태그"]
    assert [c.name for c in second.categories] == ["New"]
    assert db.session.execute(select(func.count(Tag.id))).scalar_one() == 1
    assert db.session.execute(select(func.count(Category.id))).scalar_one() == 1


def test_each_import_of_a_post_is_one_save_of_one_version(site: Path) -> None:
    path = write(site, "_posts/2024-01-01-a.md", "---\ntags: [x]\ncategories: [c]\n---\nv1")
    run(site)
    assert post("a").version == 1
    path.write_text("---\ntags: [y]\ncategories: [c]\n---\nv2", encoding="utf-8")
    run(site)
    assert post("a").version == 2
    versions = db.session.execute(select(Revision.post_version).order_by(Revision.id)).scalars()
    assert list(versions) == [1, 2]


def test_imported_images_are_stored_with_their_size_and_shown_sized_and_lazy(site: Path) -> None:
    photo = io.BytesIO()
    Image.new("RGB", (320, 180), (20, 120, 220)).save(photo, "JPEG")
    write(site, "assets/img/사진.jpg", photo.getvalue())
    write(
        site,
        "assets/img/plan.svg",
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 90"/>',
    )
    write(
        site,
        "_posts/2024-01-01-a.md",
        "---\n---\n![서울](/assets/img/사진.jpg)\n\n![plan](/assets/img/plan.svg)\n\n"
        '<img src="/assets/img/사진.jpg" width="100">',
    )
    assert not run(site, assets_dir=site).failed
    media = {m.content_type: m for m in db.session.execute(select(Media)).scalars()}
    assert (media["image/jpeg"].width, media["image/jpeg"].height) == (320, 180)
    assert (media["image/svg+xml"].width, media["image/svg+xml"].height) == (120, 90)
    body = post("a").body_html
    svg = f"/media/{media['image/svg+xml'].sha256}/"
    jpeg = f"/media/{media['image/jpeg'].sha256}/%EC%82%AC%EC%A7%84.jpg"
    assert f'<img alt="서울" src="{jpeg}" width="320" height="180" loading="lazy">' in body
    assert f'<img alt="plan" src="{svg}plan.svg" width="120" height="90" loading="lazy">' in body
    # The author's own width wins; a height to go with it is not made up.
    assert f'<img src="{jpeg}" width="100" loading="lazy">' in body
