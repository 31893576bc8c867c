"""Categories and tags: one set of rules for both kinds ("category", "tag").

Names are unique however they are typed (NFC, any case: `models.fold_name`), one line of at
most MAX_NAME_LENGTH characters. A slug follows its name until someone sets it by hand
(`slug_locked`); a slug given up by a rename, a hand edit or a merge keeps answering with a
301 to the current one (TaxonomyRedirect), so no reader's link breaks. Every change is in the
audit log. Refusals raise TaxonomyError with a message for the person who asked; changes
return a TermChange saying what happened.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import Table, delete, exists, func, insert, literal, select, update
from sqlalchemy.exc import OperationalError

from .. import audit, changes, clock
from ..database import insert_if_absent, writing
from ..extensions import db
from ..models import (
    Category,
    Post,
    Role,
    Tag,
    TaxonomyRedirect,
    User,
    fold_name,
    post_categories,
    post_tags,
)
from . import search
from .settings import site_settings
from .slugs import MAX_SLUG_LENGTH, slugify, unique_slug
from .text import TextError, clean_line

MAX_NAME_LENGTH = 100
KINDS = ("category", "tag")
# The site setting that lets contributors and authors add terms by typing them.
WRITERS_MAY_ADD_TERMS = "writers_may_add_terms"

Term = Category | Tag
_KIND_WORDS = {"category": _l("category"), "tag": _l("tag")}


class TaxonomyError(ValueError):
    """A change refused; `str()` says why. `existing` is the term a new name clashes with."""

    def __init__(self, message: str, existing: Term | None = None) -> None:
        super().__init__(message)
        self.existing = existing


@dataclass(frozen=True)
class TermChange:
    """What a change did: `action` (create, rename, slug, merge, delete, none) and a message."""

    action: str
    message: str
    term: Term | None = None


def kind_of(term: Term) -> str:
    return "category" if isinstance(term, Category) else "tag"


def model_for(kind: str) -> type[Category] | type[Tag]:
    """Category or Tag; KeyError for any other kind."""
    return {"category": Category, "tag": Tag}[kind]


def _posts_table(kind: str) -> tuple[Table, Any]:
    """The association table of `kind` and its column naming the term."""
    if kind == "category":
        return post_categories, post_categories.c.category_id
    return post_tags, post_tags.c.tag_id


def _post_ids(kind: str, term_id: int) -> list[int]:
    """The posts that have this term (any status), whose search entries name it."""
    table, term_column = _posts_table(kind)
    return list(db.session.execute(select(table.c.post_id).where(term_column == term_id)).scalars())


def _redirect_column(kind: str) -> Any:
    return TaxonomyRedirect.category_id if kind == "category" else TaxonomyRedirect.tag_id


def _word(kind: str) -> str:
    return str(_KIND_WORDS[kind])


# Names and slugs ------------------------------------------------------------------------


def clean_name(raw: str) -> str:
    """A name as it will be stored; TaxonomyError when it is empty, too long or unreadable."""
    try:
        name = clean_line(raw, max_length=MAX_NAME_LENGTH)
    except TextError as error:
        raise TaxonomyError(str(error)) from None
    # Spaces and joiners alone (U+200D) would be a name nobody can see.
    if not any(unicodedata.category(char)[0] not in "ZC" for char in name):
        raise TaxonomyError(_("A name is needed."))
    return name


def base_slug(kind: str, name: str) -> str:
    """The slug a name gives; a name without letters or digits (🔥🔥) gets a short hash."""
    slug = slugify(name)
    if slug:
        return slug
    digest = hashlib.sha256(fold_name(name).encode("utf-8")).hexdigest()[:6]
    return f"{kind[0]}-{digest}"


def _slug_owner(kind: str, slug: str) -> Term | None:
    model = model_for(kind)
    return db.session.execute(select(model).where(model.slug == slug)).scalar_one_or_none()


def _free_slug(kind: str, name: str, excluding_id: int | None = None) -> str:
    model = model_for(kind)

    def taken(slug: str) -> bool:
        query = select(model.id).where(model.slug == slug)
        if excluding_id is not None:
            query = query.where(model.id != excluding_id)
        return db.session.execute(query.limit(1)).first() is not None

    return unique_slug(base_slug(kind, name), taken)


def find_by_name(kind: str, name: str) -> Term | None:
    """The term of this name however it is spelled ("news" finds "News")."""
    model = model_for(kind)
    key = fold_name(name)
    return db.session.execute(select(model).where(model.name_key == key)).scalar_one_or_none()


def _refuse_taken_name(kind: str, name: str, term: Term | None = None) -> None:
    existing = find_by_name(kind, name)
    if existing is not None and (term is None or existing.id != term.id):
        if term is None:
            message = _(
                "The %(kind)s “%(name)s” already exists.", kind=_word(kind), name=existing.name
            )
        else:
            message = _(
                "The %(kind)s “%(name)s” already exists: merge into it instead?",
                kind=_word(kind),
                name=existing.name,
            )
        raise TaxonomyError(message, existing=existing)


def _move_slug(kind: str, term: Term, new_slug: str) -> None:
    """Give `term` the slug `new_slug`; its old slug keeps leading to it. Inside writing()."""
    old_slug = term.slug
    if new_slug == old_slug:
        return
    _claim_slug(kind, new_slug)
    _add_redirect(kind, old_slug, term.id)
    term.slug = new_slug


def _claim_slug(kind: str, slug: str) -> None:
    """A slug about to be live stops being an old one (of this term or another): a live slug
    is never also a redirect, which keeps redirects free of loops. Inside writing()."""
    db.session.execute(
        delete(TaxonomyRedirect).where(
            TaxonomyRedirect.kind == kind, TaxonomyRedirect.old_slug == slug
        )
    )


def _add_redirect(kind: str, old_slug: str, term_id: int) -> None:
    column = _redirect_column(kind)
    db.session.execute(
        insert(TaxonomyRedirect).values(
            kind=kind, old_slug=old_slug, created_at=clock.now(), **{column.key: term_id}
        )
    )


def path_of(kind: str, slug: str) -> str:
    return f"/{kind}/{slug}"


# Changes the taxonomy page makes -----------------------------------------------------------


def create_term(kind: str, raw_name: str, actor: User | None) -> TermChange:
    """A new category or tag; refused when the name is empty, too long or taken."""
    name = clean_name(raw_name)
    _refuse_taken_name(kind, name)
    model = model_for(kind)
    with writing():
        _refuse_taken_name(kind, name)  # again under the lock: nobody added it meanwhile
        term = model(name=name, slug=_free_slug(kind, name))
        _claim_slug(kind, term.slug)
        db.session.add(term)
        db.session.flush()
        audit.record(actor, f"{kind}.create", name, slug=term.slug)
    return TermChange(
        "create", _("Created the %(kind)s “%(name)s”.", kind=_word(kind), name=name), term
    )


def _still_there(kind: str, term_id: int) -> Term:
    """The term read again under the write lock; TaxonomyError when someone deleted or
    merged it away since the page was loaded (never a 500 from a vanished row)."""
    found = db.session.get(model_for(kind), term_id, populate_existing=True)
    if found is None:
        raise TaxonomyError(
            _("This %(kind)s was deleted or merged meanwhile; nothing was changed.",
              kind=_word(kind))
        )  # fmt: skip
    return found


def rename_term(term: Term, raw_name: str, actor: User | None) -> TermChange:
    """Rename; the slug follows unless it was set by hand. A taken name suggests a merge."""
    kind = kind_of(term)
    name = clean_name(raw_name)
    if name == term.name:
        return TermChange("none", _("Nothing changed."), term)
    _refuse_taken_name(kind, name, term)
    old_name, term_id = term.name, term.id
    with writing():
        term = _still_there(kind, term_id)
        _refuse_taken_name(kind, name, term)
        old_slug = term.slug
        term.name = name
        if not term.slug_locked:
            _move_slug(kind, term, _free_slug(kind, name, excluding_id=term.id))
        search.refresh_terms(_post_ids(kind, term.id))
        audit.record(actor, f"{kind}.rename", name, old=old_name, slug=term.slug, old_slug=old_slug)
    return TermChange(
        "rename", _("Renamed “%(old)s” to “%(name)s”.", old=old_name, name=name), term
    )


def set_slug(term: Term, raw_slug: str, actor: User | None) -> TermChange:
    """Set the slug by hand (it then stays through renames); empty: follow the name again."""
    kind = kind_of(term)
    try:
        typed = clean_line(raw_slug, max_length=MAX_SLUG_LENGTH)
    except TextError as error:
        raise TaxonomyError(str(error)) from None
    if not typed:
        slug, locked = _free_slug(kind, term.name, excluding_id=term.id), False
    else:
        slug, locked = slugify(typed), True
        if not slug:
            raise TaxonomyError(_("The address needs letters or digits."))
        owner = _slug_owner(kind, slug)
        if owner is not None and owner.id != term.id:
            raise TaxonomyError(
                _(
                    "The %(kind)s “%(name)s” already has the address “%(slug)s”.",
                    kind=_word(kind),
                    name=owner.name,
                    slug=slug,
                )
            )
    if slug == term.slug and locked == term.slug_locked:
        return TermChange("none", _("Nothing changed."), term)
    term_id = term.id
    with writing():
        term = _still_there(kind, term_id)
        owner = _slug_owner(kind, slug)
        if owner is not None and owner.id != term.id:
            raise TaxonomyError(
                _("Another %(kind)s took this address just now; try again.", kind=_word(kind))
            )
        old_slug = term.slug
        _move_slug(kind, term, slug)
        term.slug_locked = locked
        audit.record(actor, f"{kind}.slug", term.name, slug=slug, old_slug=old_slug, locked=locked)
    if locked:
        message = _(
            "The address of “%(name)s” is now %(path)s.", name=term.name, path=path_of(kind, slug)
        )
    else:
        message = _(
            "The address of “%(name)s” follows its name again: %(path)s.",
            name=term.name,
            path=path_of(kind, slug),
        )
    return TermChange("slug", message, term)


def merge_terms(
    kind: str, source: Term | None, target: Term | None, actor: User | None
) -> TermChange:
    """Move the posts of `source` to `target` (no duplicates), point its URLs there, delete it."""
    if source is None or kind_of(source) != kind:
        raise TaxonomyError(_("Choose which %(kind)s to merge.", kind=_word(kind)))
    if target is None or kind_of(target) != kind:
        raise TaxonomyError(_("Choose which %(kind)s to merge into.", kind=_word(kind)))
    if target.id == source.id:
        raise TaxonomyError(
            _("A %(kind)s cannot be merged into itself; choose another one.", kind=_word(kind))
        )
    table, term_column = _posts_table(kind)
    source_id, target_id = source.id, target.id
    source_name, target_name = source.name, target.name
    with writing():
        source, target = _still_there(kind, source_id), _still_there(kind, target_id)
        source_posts = select(table.c.post_id).where(term_column == source_id)
        merged_posts = _post_ids(kind, source_id)
        moved = db.session.execute(
            select(func.count()).select_from(source_posts.subquery())
        ).scalar_one()
        already = select(table.c.post_id).where(term_column == target_id)
        db.session.execute(
            insert(table).from_select(
                ["post_id", term_column.key],
                select(table.c.post_id, literal(target_id)).where(
                    term_column == source_id, table.c.post_id.not_in(already)
                ),
            )
        )
        column = _redirect_column(kind)
        # Old slugs of the source lead straight to the target: no chain of hops.
        db.session.execute(
            update(TaxonomyRedirect).where(column == source_id).values({column.key: target_id})
        )
        _add_redirect(kind, source.slug, target_id)
        model = model_for(kind)
        db.session.execute(delete(model).where(model.id == source_id))
        search.refresh_terms(merged_posts)
        audit.record(actor, f"{kind}.merge", target_name, source=source_name, moved=moved)
    db.session.expire_all()
    return TermChange(
        "merge",
        ngettext(
            "Merged “%(source)s” into “%(target)s”: moved %(num)s post.",
            "Merged “%(source)s” into “%(target)s”: moved %(num)s posts.",
            moved,
            source=source_name,
            target=target_name,
        ),
        target,
    )


def usage_count(term: Term) -> int:
    """How many posts (any status, trash included) have this term."""
    table, term_column = _posts_table(kind_of(term))
    return db.session.execute(
        select(func.count()).select_from(table).where(term_column == term.id)
    ).scalar_one()


def delete_term(term: Term, actor: User | None) -> TermChange:
    """Delete; its posts keep their other categories and tags. Old URLs stop answering."""
    kind, name, slug, term_id = kind_of(term), term.name, term.slug, term.id
    used = usage_count(term)
    with writing():
        _still_there(kind, term_id)
        model = model_for(kind)
        used_by = _post_ids(kind, term_id)
        db.session.execute(delete(model).where(model.id == term_id))
        search.refresh_terms(used_by)
        audit.record(actor, f"{kind}.delete", name, slug=slug, used_by=used)
    db.session.expire_all()
    return TermChange("delete", _("Deleted the %(kind)s “%(name)s”.", kind=_word(kind), name=name))


def delete_question(term: Term, used: int) -> str:
    """What the confirmation asks before deleting a term that posts use."""
    if kind_of(term) == "category":
        return ngettext(
            "“%(name)s” is used by %(num)s post; it keeps its other categories.",
            "“%(name)s” is used by %(num)s posts; they keep their other categories.",
            used,
            name=term.name,
        )
    return ngettext(
        "“%(name)s” is used by %(num)s post; it keeps its other tags.",
        "“%(name)s” is used by %(num)s posts; they keep their other tags.",
        used,
        name=term.name,
    )


def terms_with_counts(kind: str) -> list[tuple[Term, int]]:
    """Every term of `kind` with how many posts have it, in one query, by name."""
    model = model_for(kind)
    table, term_column = _posts_table(kind)
    rows = db.session.execute(
        select(model, func.count(table.c.post_id))
        .outerjoin(table, term_column == model.id)
        .group_by(model.id)
        .order_by(model.name_key, model.id)
    ).all()
    return [(term, count) for term, count in rows]


class TermInUse(NamedTuple):
    """A category or tag on the public index: its name, slug and number of listed posts."""

    name: str
    slug: str
    posts: int


def public_terms_with_counts(kind: str, now: datetime) -> list[TermInUse]:
    """The terms of `kind` that listed posts have, with how many, by name: one grouped
    query. Drafts, scheduled, unlisted and trashed posts are not counted, and a term only
    they have is not shown (its page does not exist)."""
    model = model_for(kind)
    table, term_column = _posts_table(kind)
    rows = db.session.execute(
        select(model.name, model.slug, func.count(table.c.post_id))
        .join(table, term_column == model.id)
        .join(Post, Post.id == table.c.post_id)
        .where(Post.listed(now))
        .group_by(model.id)
        .order_by(model.name_key, model.id)
    ).all()
    return [TermInUse(name, slug, count) for name, slug, count in rows]


def term_by_id(kind: str, term_id: int | None) -> Term | None:
    if term_id is None:
        return None
    return db.session.get(model_for(kind), term_id)


# Names typed in the post editor -----------------------------------------------------------


def may_add_terms(user: User | None) -> bool:
    """Editors and admins always may add categories and tags by typing them; writers when the
    site allows it. `None` (an import, the CLI) always may."""
    if user is None or user.has_role(Role.EDITOR):
        return True
    return bool(site_settings()[WRITERS_MAY_ADD_TERMS])


def _distinct_by_key(names: Iterable[str]) -> dict[str, str]:
    """folded name -> the first spelling typed, in the order typed."""
    found: dict[str, str] = {}
    for name in names:
        found.setdefault(fold_name(name), name)
    return found


def unknown_names(kind: str, names: Iterable[str]) -> list[str]:
    """The names among `names` no term of `kind` has yet, as typed."""
    wanted = _distinct_by_key(names)
    if not wanted:
        return []
    model = model_for(kind)
    known = set(
        db.session.execute(select(model.name_key).where(model.name_key.in_(wanted))).scalars()
    )
    return [name for key, name in wanted.items() if key not in known]


def unknown_names_message(kind: str, names: list[str]) -> str:
    quoted = ", ".join(f"“{name}”" for name in names)
    if kind == "category":
        return ngettext(
            "%(names)s is not an existing category; ask an editor to add it.",
            "%(names)s are not existing categories; ask an editor to add them.",
            len(names),
            names=quoted,
        )
    return ngettext(
        "%(names)s is not an existing tag; ask an editor to add it.",
        "%(names)s are not existing tags; ask an editor to add them.",
        len(names),
        names=quoted,
    )


def import_name(raw: str) -> str:
    """A name from an import, as stored: NFC, trimmed, cut to MAX_NAME_LENGTH."""
    return unicodedata.normalize("NFC", raw).strip()[:MAX_NAME_LENGTH].strip()


def resolve_names(
    kind: str, names: Iterable[str], actor: User | None, known: dict[str, Term] | None = None
) -> list[Term]:
    """The terms of these names, created when missing, inside `writing()`.

    Names match however they are typed ("news" is "News"); a new name gets a free slug.
    Two writers adding the same new name at once end with one row (INSERT ... ON CONFLICT).
    Callers check names (validate(), clean_name) and the right to add (may_add_terms) first.
    `known` (name key -> term) holds terms of `kind` found earlier in the same write
    transaction: they are not looked up again (an import's batch of posts).
    """
    wanted = _distinct_by_key(name for name in names if name.strip())
    if not wanted:
        return []
    model = model_for(kind)

    def existing(keys: Iterable[str]) -> dict[str, Term]:
        rows = db.session.execute(select(model).where(model.name_key.in_(keys))).scalars()
        return {term.name_key: term for term in rows}

    found = {key: known[key] for key in wanted if known and key in known}
    if len(found) < len(wanted):
        found.update(existing([key for key in wanted if key not in found]))
    missing = [key for key in wanted if key not in found]
    for key in missing:
        name, slug = wanted[key], _free_slug(kind, wanted[key])
        _claim_slug(kind, slug)
        insert_if_absent(
            db.session, model, {"name": name, "name_key": key, "slug": slug}, unique=["name_key"]
        )
    if missing:
        found.update(existing(missing))
        for key in missing:
            audit.record(actor, f"{kind}.create", found[key].name, slug=found[key].slug, via="post")
    return [found[key] for key in wanted]


# Old slugs on the public site ---------------------------------------------------------------


def redirected_term(kind: str, old_slug: str, now: datetime) -> Term | None:
    """The term an old slug now means, if a reader may see its page (a public post has it).

    A term only drafts use has no page; its new slug is not told either.
    """
    model = model_for(kind)
    column = _redirect_column(kind)
    table, term_column = _posts_table(kind)
    return db.session.execute(
        select(model)
        .join(TaxonomyRedirect, column == model.id)
        .where(TaxonomyRedirect.kind == kind, TaxonomyRedirect.old_slug == old_slug)
        .where(
            select(table.c.post_id)
            .join(Post, Post.id == table.c.post_id)
            .where(term_column == model.id, Post.listed(now))
            .exists()
        )
    ).scalar_one_or_none()


@dataclass(frozen=True)
class HeaderCategory:
    name: str
    slug: str


def header_categories() -> list[HeaderCategory]:
    """The categories a public post has, by name: the site header's navigation.

    Every page shows them, so they are read once per public change (`kept_per_change`):
    one query, an index probe per category (ix_post_categories_category) until a listed
    post turns up. A category of drafts alone is not named (its page does not exist).
    """

    def read(now: datetime) -> list[HeaderCategory]:
        has_public_post = exists().where(
            post_categories.c.category_id == Category.id,
            post_categories.c.post_id == Post.id,
            Post.listed(now, by_date=False),
        )
        rows = db.session.execute(
            select(Category.name, Category.slug).where(has_public_post).order_by(Category.name_key)
        )
        return [HeaderCategory(name, slug) for name, slug in rows]

    try:
        return changes.kept_per_change("header_categories", read)
    except OperationalError:
        # Error pages render even when the database cannot be read (as site_settings does).
        db.session.rollback()
        return []
