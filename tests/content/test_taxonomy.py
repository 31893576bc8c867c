"""Categories and tags in the domain: names, slugs, renames, merges, deletes and old URLs."""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from blog.auth.accounts import create_user
from blog.content import taxonomy
from blog.content.publish import PostFields, save_fields, validate
from blog.content.settings import set_setting
from blog.content.taxonomy import TaxonomyError
from blog.database import writing
from blog.extensions import db
from blog.models import AuditEvent, Category, Post, Role, Tag, TaxonomyRedirect, User
from tests.conftest import MakePost


@pytest.fixture
def desk(app: Flask) -> Iterator[User]:
    """An editor, in an app context for calling the domain directly."""
    with app.app_context():
        with writing():
            editor = create_user("desk", "a long password", Role.EDITOR)
        yield editor


def category(name: str) -> Category:
    found = taxonomy.find_by_name("category", name)
    assert isinstance(found, Category), name
    return found


def names_of(slug: str) -> list[str]:
    post = db.session.execute(select(Post).where(Post.slug == slug)).scalar_one()
    return sorted(c.name for c in post.categories)


def count(model: Any) -> int:
    return db.session.execute(select(func.count(model.id))).scalar_one()


def save_new(
    editor: User, title: str, categories: list[str], tags: list[str] | None = None
) -> Post:
    fields = PostFields(title=title, body="본문", categories=categories, tags=tags or [])
    assert validate(fields, None, editor) == {}
    return save_fields(None, fields, editor, None)


def test_a_renamed_category_is_not_forked_by_the_next_save(desk: User, make_post: MakePost) -> None:
    # Regression: rename kept the slug `news`, saving looked up slugify("World") and made
    # a second "World".
    make_post(title="Old", slug="old", categories=("News",))
    taxonomy.rename_term(category("News"), "World", desk)
    save_new(desk, "New", ["World"])
    rows = db.session.execute(select(Category.name, Category.slug)).all()
    assert rows == [("World", "world")]
    assert names_of("old") == ["World"] and names_of("new") == ["World"]


def test_renaming_onto_an_existing_name_is_refused_and_offers_the_merge(
    desk: User, make_post: MakePost
) -> None:
    # Regression: renaming c103 to News when News existed gave two "News".
    make_post(categories=("News", "c103"))
    with pytest.raises(TaxonomyError, match="already exists: merge") as refused:
        taxonomy.rename_term(category("c103"), "news", desk)
    assert refused.value.existing is not None and refused.value.existing.name == "News"
    assert sorted(db.session.execute(select(Category.name)).scalars()) == ["News", "c103"]


def test_names_match_whatever_the_case_and_normal_form(desk: User) -> None:
    composed, decomposed = "뉴스", unicodedata.normalize("NFD", "뉴스")
    assert composed != decomposed
    taxonomy.create_term("category", "News", desk)
    taxonomy.create_term("category", composed, desk)
    for typed in ("news", "NEWS", decomposed):
        with pytest.raises(TaxonomyError, match="already exists"):
            taxonomy.create_term("category", typed, desk)
    post = save_new(desk, "속보", ["news", decomposed])
    assert sorted(c.name for c in post.categories) == ["News", "뉴스"]
    assert count(Category) == 2


def test_a_case_only_rename_keeps_the_category(desk: User) -> None:
    taxonomy.create_term("tag", "seoul", desk)
    change = taxonomy.rename_term(taxonomy.find_by_name("tag", "seoul"), "Seoul", desk)  # type: ignore[arg-type]
    assert change.action == "rename" and change.term.name == "Seoul"  # type: ignore[union-attr]
    assert db.session.execute(select(Tag.slug)).scalars().all() == ["seoul"]
    assert db.session.execute(select(TaxonomyRedirect)).first() is None


def test_emoji_only_names_are_kept_with_a_slug_of_their_own(desk: User) -> None:
    # Regression: 🔥🔥 and 😀 were dropped without a word when a post was saved.
    post = save_new(desk, "불꽃", ["🔥🔥", "😀", "..."], ["🔥🔥"])
    slugs = {c.name: c.slug for c in post.categories}
    assert set(slugs) == {"🔥🔥", "😀", "..."}
    assert all(slug.startswith("c-") and len(slug) == 8 for slug in slugs.values())
    assert len(set(slugs.values())) == 3
    assert post.tags[0].slug.startswith("t-")


@pytest.mark.parametrize(
    ("typed", "message"),
    [("", "A name is needed"), ("   ", "A name is needed"), ("\u200d", "A name is needed"),
     ("x" * 101, "at most 100 characters"), ("a\x00b", "invisible control character"),
     ("\u202egnp", "invisible control character")],
)  # fmt: skip
def test_names_that_cannot_be_names_are_refused(desk: User, typed: str, message: str) -> None:
    with pytest.raises(TaxonomyError, match=message):
        taxonomy.create_term("category", typed, desk)
    errors = validate(PostFields(title="t", categories=[typed or " "]), None, desk)
    assert message in errors["categories"]
    assert count(Category) == 0


def test_a_hundred_characters_is_long_enough(desk: User) -> None:
    name = "가" * 100
    assert taxonomy.create_term("category", name, desk).term.name == name  # type: ignore[union-attr]


def test_a_rename_moves_the_slug_and_the_old_one_redirects(
    desk: User, client: FlaskClient, make_post: MakePost
) -> None:
    make_post(categories=("News",))
    taxonomy.rename_term(category("News"), "World", desk)
    assert client.get("/category/world").status_code == 200
    moved = client.get("/category/news?page=1")
    assert moved.status_code == 301 and moved.headers["Location"] == "/category/world?page=1"
    events = db.session.execute(select(AuditEvent.action, AuditEvent.target)).all()
    assert ("category.rename", "World") in events


def test_a_slug_set_by_hand_stays_through_renames(
    desk: User, client: FlaskClient, make_post: MakePost
) -> None:
    make_post(categories=("정치",))
    taxonomy.set_slug(category("정치"), "Politics", desk)
    taxonomy.rename_term(category("정치"), "정치 일반", desk)
    term = category("정치 일반")
    assert term.slug == "politics" and term.slug_locked
    assert client.get("/category/정치").headers["Location"] == "/category/politics"
    # Empty: the slug follows the name again, and the hand-set one redirects.
    taxonomy.set_slug(term, "", desk)
    assert category("정치 일반").slug == "정치-일반" and not category("정치 일반").slug_locked
    location = client.get("/category/politics").headers["Location"]
    assert location == "/category/%EC%A0%95%EC%B9%98-%EC%9D%BC%EB%B0%98"  # 정치-일반


def test_a_slug_another_category_has_is_refused(desk: User, make_post: MakePost) -> None:
    make_post(categories=("News", "Sports"))
    with pytest.raises(TaxonomyError, match="already has the address"):
        taxonomy.set_slug(category("Sports"), "NEWS", desk)
    with pytest.raises(TaxonomyError, match="letters or digits"):
        taxonomy.set_slug(category("Sports"), "---", desk)
    with pytest.raises(TaxonomyError, match="invisible"):
        taxonomy.set_slug(category("Sports"), "a\x00", desk)
    assert category("Sports").slug == "sports"


def test_merge_moves_posts_without_duplicates_and_deletes_the_source(
    desk: User, make_post: MakePost
) -> None:
    make_post(slug="both", categories=("Politics", "정치", "Seoul"))
    make_post(slug="only-source", categories=("정치",))
    make_post(slug="other", categories=("Sports",))
    change = taxonomy.merge_terms("category", category("정치"), category("Politics"), desk)
    assert change.action == "merge" and "moved 2 posts" in change.message
    assert names_of("both") == ["Politics", "Seoul"]
    assert names_of("only-source") == ["Politics"] and names_of("other") == ["Sports"]
    assert taxonomy.find_by_name("category", "정치") is None
    assert ("category.merge", "Politics") in db.session.execute(
        select(AuditEvent.action, AuditEvent.target)
    ).all()


def test_merge_refuses_itself_nothing_and_the_other_kind(desk: User, make_post: MakePost) -> None:
    make_post(categories=("News",), tags=("News",))
    news, tag = category("News"), taxonomy.find_by_name("tag", "News")
    cases = [(news, news, "into itself"), (news, None, "merge into"), (None, news, "to merge"),
             (news, tag, "merge into")]  # fmt: skip
    for source, target, message in cases:
        with pytest.raises(TaxonomyError, match=message):
            taxonomy.merge_terms("category", source, target, desk)
    assert count(Category) == 1 and count(Tag) == 1


def test_old_urls_lead_straight_to_the_merge_target_without_loops(
    desk: User, client: FlaskClient, make_post: MakePost
) -> None:
    make_post(categories=("A", "C"))
    taxonomy.rename_term(category("A"), "B", desk)
    taxonomy.merge_terms("category", category("B"), category("C"), desk)
    for old in ("a", "b"):
        answer = client.get(f"/category/{old}")
        assert (answer.status_code, answer.headers["Location"]) == (301, "/category/c"), old
    # C takes the name A, and with it the slug `a`: it is live again, not a redirect.
    taxonomy.rename_term(category("C"), "A", desk)
    assert client.get("/category/a").status_code == 200
    for old in ("b", "c"):
        assert client.get(f"/category/{old}").headers["Location"] == "/category/a"
    slugs = db.session.execute(select(TaxonomyRedirect.old_slug)).scalars().all()
    assert sorted(slugs) == ["b", "c"]


def test_delete_keeps_the_posts_other_categories(desk: User, make_post: MakePost) -> None:
    make_post(slug="p", categories=("News", "Sports"))
    news = category("News")
    assert taxonomy.usage_count(news) == 1
    assert "used by 1 post; it keeps its other categories" in taxonomy.delete_question(news, 1)
    taxonomy.delete_term(news, desk)
    assert names_of("p") == ["Sports"] and count(Post) == 1
    assert ("category.delete", "News") in db.session.execute(
        select(AuditEvent.action, AuditEvent.target)
    ).all()


def test_tags_follow_the_same_rules(desk: User, client: FlaskClient, make_post: MakePost) -> None:
    make_post(tags=("웹 개발", "web"))
    web = taxonomy.find_by_name("tag", "web")
    with pytest.raises(TaxonomyError, match="already exists: merge"):
        taxonomy.rename_term(web, "웹 개발", desk)  # type: ignore[arg-type]
    taxonomy.merge_terms("tag", web, taxonomy.find_by_name("tag", "웹 개발"), desk)
    assert client.get("/tag/web").headers["Location"] == "/tag/%EC%9B%B9-%EA%B0%9C%EB%B0%9C"
    actions = db.session.execute(select(AuditEvent.action)).scalars().all()
    assert "tag.merge" in actions


def test_a_category_only_drafts_use_does_not_tell_its_new_slug(
    desk: User, client: FlaskClient, make_post: MakePost
) -> None:
    make_post(categories=("Embargo",), status="draft")
    taxonomy.rename_term(category("Embargo"), "Merger talks", desk)
    assert client.get("/category/embargo").status_code == 404


def test_the_same_new_name_saved_at_once_makes_one_row(app: Flask, desk: User) -> None:
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []
    desk_id = desk.id

    def save(number: int) -> None:
        with app.app_context():
            editor = db.session.get(User, desk_id)
            assert editor is not None
            barrier.wait()
            try:
                save_new(editor, f"속보 {number}", ["긴급 속보", f"Own {number}"], ["동시"])
            except BaseException as error:
                errors.append(error)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    db.session.rollback()  # this session's read began before the threads wrote
    shared = select(func.count()).where(Category.name == "긴급 속보")
    assert db.session.execute(shared).scalar() == 1
    assert count(Tag) == 1 and count(Category) == 7
    creates = db.session.execute(
        select(func.count()).where(AuditEvent.action == "category.create")
    ).scalar()
    assert creates == 7


def test_writers_may_be_kept_to_the_existing_names(app: Flask, desk: User) -> None:
    taxonomy.create_term("category", "Confidential", desk)
    with writing():
        reporter = create_user("reporter", "a long password", Role.CONTRIBUTOR)
        author = create_user("columnist", "a long password", Role.AUTHOR)
    assert taxonomy.may_add_terms(reporter)  # on by default: small teams work as before
    with writing():
        set_setting(taxonomy.WRITERS_MAY_ADD_TERMS, False)
    for writer in (reporter, author):
        fields = PostFields(title="t", categories=["confidential", "Leaks", "뉴스"], tags=["x"])
        errors = validate(fields, None, writer)
        assert errors["categories"] == (
            "“Leaks”, “뉴스” are not existing categories; ask an editor to add them."
        )
        assert errors["tags"] == "“x” is not an existing tag; ask an editor to add it."
    # An existing name, however typed, is fine; an editor may add new ones.
    post = save_new(reporter, "t", ["confidential"])
    assert [c.name for c in post.categories] == ["Confidential"]
    assert validate(PostFields(title="u", categories=["Leaks"]), None, desk) == {}
    assert count(Category) == 1


def test_imports_may_always_add_and_long_names_are_cut(app: Flask, make_post: MakePost) -> None:
    make_post(categories=("x" * 150, "Jekyll"))
    with app.app_context():
        with writing():
            set_setting(taxonomy.WRITERS_MAY_ADD_TERMS, False)
        assert taxonomy.may_add_terms(None)
        names = sorted(db.session.execute(select(Category.name)).scalars(), key=len)
        assert names == ["Jekyll", "x" * 100]


@pytest.mark.parametrize("change", ["rename", "slug", "merge", "merge-into", "delete"])
def test_a_term_deleted_meanwhile_is_a_message_not_a_500(
    app: Flask, desk: User, make_post: MakePost, change: str
) -> None:
    make_post(categories=("지울 것", "남을 것"))
    stale, other = category("지울 것"), category("남을 것")
    stale_id = stale.id

    def delete_elsewhere() -> None:  # another editor, another session
        with app.app_context(), writing():
            db.session.execute(db.delete(Category).where(Category.id == stale_id))

    thread = threading.Thread(target=delete_elsewhere)
    thread.start()
    thread.join(timeout=30)
    attempts = {
        "rename": lambda: taxonomy.rename_term(stale, "새 이름", desk),
        "slug": lambda: taxonomy.set_slug(stale, "new-address", desk),
        "merge": lambda: taxonomy.merge_terms("category", stale, other, desk),
        "merge-into": lambda: taxonomy.merge_terms("category", other, stale, desk),
        "delete": lambda: taxonomy.delete_term(stale, desk),
    }
    with pytest.raises(TaxonomyError, match="deleted or merged meanwhile"):
        attempts[change]()
    db.session.rollback()
    assert category("남을 것").id == other.id  # the other one untouched
