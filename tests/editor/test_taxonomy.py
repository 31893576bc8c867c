"""The categories and tags page, with and without htmx, and the setting that lets writers add."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from blog.extensions import db
from blog.models import AuditEvent, Category, Post, Tag
from tests.conftest import Login, MakePost, post_form
from tests.editor.test_editing import new_post

HTMX = {"HX-Request": "true"}


@pytest.fixture
def desk(app: Flask, client: FlaskClient, login: Login, make_post: MakePost) -> dict[str, int]:
    """An editor signed in; News (two posts, one also in Sports), Sports, and a tag."""
    login("editor")
    make_post(title="Both", slug="both", categories=("News", "Sports"), tags=("속보",))
    make_post(title="Only news", slug="only-news", categories=("News",))
    with app.app_context():
        ids = dict(db.session.execute(select(Category.name, Category.id)).all())
        ids["속보"] = db.session.execute(select(Tag.id)).scalar_one()
    return ids


def categories_of(app: Flask, slug: str) -> list[str]:
    with app.app_context():
        post = db.session.execute(select(Post).where(Post.slug == slug)).scalar_one()
        return sorted(c.name for c in post.categories)


def all_categories(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(select(Category.name, Category.slug).order_by(Category.name))
        return [tuple(row) for row in rows]


def test_the_page_lists_both_kinds_with_post_counts(client: FlaskClient, desk: Any) -> None:
    page = client.get("/admin/taxonomy")
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    html = page.text
    assert "<h2" in html and "News" in html and "2 posts" in html and "1 post<" in html
    assert "/category/news" in html and "속보" in html and 'href="/static/css/taxonomy.' in html
    fragment = client.get("/admin/taxonomy", headers=HTMX).text
    assert fragment.lstrip().startswith('<div id="taxonomy"') and "<html" not in fragment


@pytest.mark.parametrize("htmx", [False, True])
def test_create_says_so_and_a_taken_name_is_refused(
    app: Flask, client: FlaskClient, desk: Any, htmx: bool
) -> None:
    headers = HTMX if htmx else {}
    created = post_form(client, "/admin/taxonomy/category", {"name": " 정치 "}, headers=headers)
    if htmx:
        assert created.status_code == 200 and "Created the category “정치”." in created.text
        assert created.headers["HX-Retarget"] == "#taxonomy"
    else:
        assert created.status_code == 303
        assert "Created the category “정치”." in client.get("/admin/taxonomy").text
    taken = post_form(client, "/admin/taxonomy/category", {"name": "NEWS"}, headers=headers)
    assert taken.status_code == 422 and "The category “News” already exists." in taken.text
    assert 'value="NEWS"' in taken.text  # what was typed stays in the field
    assert [name for name, _ in all_categories(app)] == ["News", "Sports", "정치"]


def test_renaming_onto_an_existing_name_offers_the_merge(
    app: Flask, client: FlaskClient, desk: dict[str, int]
) -> None:
    refused = post_form(client, f"/admin/taxonomy/category/{desk['Sports']}/rename",
                        {"name": "news"})  # fmt: skip
    assert refused.status_code == 422
    assert "already exists: merge into it instead?" in refused.text
    assert 'value="news"' in refused.text and "Merge “Sports” into “News”" in refused.text
    merged = post_form(client, "/admin/taxonomy/category/merge",
                       {"source": str(desk["Sports"]), "target": str(desk["News"])})  # fmt: skip
    assert merged.status_code == 303
    assert "Merged “Sports” into “News”: moved 1 post." in client.get("/admin/taxonomy").text
    assert categories_of(app, "both") == ["News"]
    assert client.get("/category/sports").headers["Location"] == "/category/news"


def test_rename_and_slug_edits_redirect_the_old_address(
    app: Flask, client: FlaskClient, desk: dict[str, int]
) -> None:
    url = f"/admin/taxonomy/category/{desk['News']}"
    assert post_form(client, f"{url}/rename", {"name": "World"}).status_code == 303
    assert "Renamed “News” to “World”." in client.get("/admin/taxonomy").text
    # Saving a post that has it keeps the one category (the fork bug).
    assert new_post(client, title="More", categories="World, world").status_code == 303
    assert all_categories(app) == [("Sports", "sports"), ("World", "world")]
    changed = post_form(client, f"{url}/slug", {"slug": "국제"}, headers=HTMX)
    assert (
        changed.status_code == 200
        and "The address of “World” is now /category/국제." in changed.text
    )
    assert "(set by hand)" in changed.text
    for old in ("news", "world"):
        assert client.get(f"/category/{old}?page=1").headers["Location"].endswith("?page=1")
    with app.app_context():
        actions = db.session.execute(select(AuditEvent.action)).scalars().all()
        assert {"category.rename", "category.slug"} <= set(actions)


HOSTILE_NAMES = [("", "A name is needed."), ("   ", "A name is needed."),
                 ("\u200b", "invisible control character"), ("a\x00b", "invisible control"),
                 ("가" * 10_000, "at most 100 characters"), ("x" * 101, "at most 100 characters"),
                 ("\u202eevil", "invisible control character")]  # fmt: skip


@pytest.mark.parametrize(("value", "message"), HOSTILE_NAMES)
@pytest.mark.parametrize("action", ["create", "rename"])
def test_hostile_names_come_back_with_the_problem_named(
    app: Flask, client: FlaskClient, desk: dict[str, int], value: str, message: str, action: str
) -> None:
    url = (
        "/admin/taxonomy/tag"
        if action == "create"
        else f"/admin/taxonomy/tag/{desk['속보']}/rename"
    )
    for headers in ({}, HTMX):
        answer = post_form(client, url, {"name": value}, headers=headers)
        assert answer.status_code == 422 and message in answer.text, (value[:10], headers)
        if value.strip() and "\x00" not in value:
            assert value[:100] in answer.text
    with app.app_context():
        assert db.session.execute(select(Tag.name)).scalars().all() == ["속보"]


@pytest.mark.parametrize(
    ("slug", "message"),
    [("---", "letters or digits"), ("a\x00", "invisible control"), ("x" * 121, "at most 120"),
     ("SPORTS", "already has the address “sports”")],
)  # fmt: skip
def test_hostile_slugs_are_refused(
    client: FlaskClient, desk: dict[str, int], slug: str, message: str
) -> None:
    answer = post_form(client, f"/admin/taxonomy/category/{desk['News']}/slug", {"slug": slug})
    assert answer.status_code == 422 and message in answer.text


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [("", "", "Choose which category to merge."), ("evil", "1", "Choose which category to merge"),
     ("99999999999999999999", "1", "to merge."), ("SELF", "SELF", "merged into itself"),
     ("NEWS", "", "Choose which category to merge into."), ("NEWS", "424242", "merge into."),
     ("NEWS", "-1", "merge into.")],
)  # fmt: skip
def test_merge_refuses_unknown_and_self_ids(
    app: Flask, client: FlaskClient, desk: dict[str, int], source: str, target: str, message: str
) -> None:
    spell = {"SELF": str(desk["News"]), "NEWS": str(desk["News"])}
    data = {"source": spell.get(source, source), "target": spell.get(target, target)}
    for headers in ({}, HTMX):
        answer = post_form(client, "/admin/taxonomy/category/merge", data, headers=headers)
        assert answer.status_code == 422 and message in answer.text, data
    assert [name for name, _ in all_categories(app)] == ["News", "Sports"]


def test_unknown_kinds_and_ids_are_404(client: FlaskClient, desk: dict[str, int]) -> None:
    for url in ("/admin/taxonomy/author", "/admin/taxonomy/category/999/rename",
                "/admin/taxonomy/tag/999/delete", "/admin/taxonomy/tag/424242/slug"):  # fmt: skip
        assert post_form(client, url, {"name": "x", "slug": "x"}).status_code == 404, url


def test_deleting_a_category_in_use_asks_first_without_javascript(
    app: Flask, client: FlaskClient, desk: dict[str, int]
) -> None:
    url = f"/admin/taxonomy/category/{desk['News']}/delete"
    asked = post_form(client, url)
    assert asked.status_code == 200 and "<html" in asked.text
    assert "“News” is used by 2 posts; they keep their other categories." in asked.text
    assert 'name="confirmed" value="yes"' in asked.text and 'href="/admin/taxonomy"' in asked.text
    assert len(all_categories(app)) == 2  # nothing deleted yet
    done = post_form(client, url, {"confirmed": "yes"})
    assert done.status_code == 303
    assert "Deleted the category “News”." in client.get("/admin/taxonomy").text
    assert categories_of(app, "both") == ["Sports"] and categories_of(app, "only-news") == []


def test_deleting_with_htmx_asks_in_place_and_an_unused_one_goes_at_once(
    app: Flask, client: FlaskClient, desk: dict[str, int]
) -> None:
    asked = post_form(client, f"/admin/taxonomy/category/{desk['Sports']}/delete", headers=HTMX)
    assert asked.status_code == 200 and "<html" not in asked.text
    assert "used by 1 post; it keeps its other categories" in asked.text
    assert post_form(client, "/admin/taxonomy/category", {"name": "Unused"}).status_code == 303
    with app.app_context():
        unused = db.session.execute(select(Category.id).where(Category.name == "Unused")).scalar()
    gone = post_form(client, f"/admin/taxonomy/category/{unused}/delete", headers=HTMX)
    assert gone.status_code == 200 and "Deleted the category “Unused”." in gone.text
    assert gone.headers["HX-Retarget"] == "#taxonomy" and gone.headers["HX-Reswap"] == "outerHTML"


@pytest.mark.parametrize("role", ["contributor", "author"])
def test_writers_cannot_use_the_page(
    app: Flask, login: Login, desk: dict[str, int], role: str
) -> None:
    writer = app.test_client()
    login(role, browser=writer)
    assert writer.get("/admin/taxonomy").status_code == 403
    assert post_form(writer, "/admin/taxonomy/category", {"name": "x"}).status_code == 403
    url = f"/admin/taxonomy/category/{desk['News']}/delete"
    assert post_form(writer, url, {"confirmed": "yes"}).status_code == 403


def _settings(client: FlaskClient, **changes: Any) -> Any:
    data = {"title": "Test Blog", "description": "", "language": "en",
            "timezone": "Asia/Seoul", "posts_per_page": "3", **changes}  # fmt: skip
    return post_form(client, "/admin/settings", {k: v for k, v in data.items() if v is not None})


def test_the_setting_keeps_writers_to_existing_names(
    app: Flask, client: FlaskClient, login: Login, desk: dict[str, int]
) -> None:
    admin = app.test_client()
    login("admin", browser=admin)
    page = admin.get("/admin/settings").text
    assert re.search(
        r'<input [^>]*checked[^>]* name="writers_may_add_terms"', page
    )  # on by default
    assert _settings(admin, writers_may_add_terms=None).status_code == 303  # unticked
    reporter = app.test_client()
    login("contributor", username="reporter", browser=reporter)
    refused = new_post(reporter, title="단독", body="원고 보존", categories="news, 경제",
                       tags="속보, 새 태그")  # fmt: skip
    assert refused.status_code == 422 and "원고 보존" in refused.text
    assert "“경제” is not an existing category; ask an editor to add it." in refused.text
    assert "“새 태그” is not an existing tag; ask an editor to add it." in refused.text
    with app.app_context():
        assert db.session.execute(select(Post.title).where(Post.title == "단독")).first() is None
    # Existing names, however typed, are reused; an editor may still add.
    assert new_post(reporter, title="단독", categories="news", tags="속보").status_code == 303
    assert new_post(client, title="편집", categories="경제").status_code == 303
    assert [name for name, _ in all_categories(app)] == ["News", "Sports", "경제"]
    assert _settings(admin, writers_may_add_terms="y").status_code == 303
    assert new_post(reporter, title="다시", categories="문화").status_code == 303


@pytest.mark.parametrize("value", ["evil", "\x00", "가" * 10_000, "", "0"])
def test_the_setting_survives_hostile_values(
    app: Flask, client: FlaskClient, login: Login, value: str
) -> None:
    login("admin")
    answer = _settings(client, writers_may_add_terms=value)
    assert answer.status_code == 303
    with app.app_context():
        from blog.content.settings import site_settings

        assert isinstance(site_settings()["writers_may_add_terms"], bool)
