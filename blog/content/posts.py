"""Posts: saving (render on save, revisions), their categories and tags, and the queries public
pages use."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Select,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.orm import aliased, defer, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from .. import clock
from ..clock import epoch_microseconds, from_epoch_microseconds
from ..database import writing
from ..extensions import db
from ..models import (
    Category,
    Media,
    Post,
    PostStatus,
    Revision,
    Tag,
    User,
    UTCDateTime,
    post_categories,
    post_tags,
)
from . import search, taxonomy
from .markdown_worker import RenderFailed
from .markup import (
    first_paragraph_text,
    html_to_text,
    reading_minutes,
    render_body_within_budget,
)
from .media import sized_images
from .people import BYLINE_COLUMNS
from .slugs import slugify, unique_slug

POST_URL_PREFIX = "/posts/"
# A stored file's URL, /media/<sha256>/<name>, wherever a body or feature image holds it.
_MEDIA_REFERENCE = re.compile(r"/media/([0-9a-f]{64})/")


def post_path(slug: str) -> str:
    """The path a post is served at (the public blueprint's article route)."""
    return POST_URL_PREFIX + quote(slug)


def slug_taken(
    slug: str,
    excluding_post_id: int | None = None,
    visible_to: User | None = None,
    now: datetime | None = None,
) -> bool:
    """Whether a post has `slug`; with `visible_to`, only among the posts that user may
    know of (their own and public ones)."""
    query = select(Post.id).where(Post.slug == slug)
    if excluding_post_id is not None:
        query = query.where(Post.id != excluding_post_id)
    if visible_to is not None:
        query = query.where(
            or_(Post.author_id == visible_to.id, Post.reachable(now or clock.now()))
        )
    return db.session.execute(query.limit(1)).first() is not None


def unique_post_slug(
    title_or_slug: str, excluding_post_id: int | None = None, visible_to: User | None = None
) -> str:
    """A free slug made from `title_or_slug` (free among what `visible_to` may know of)."""
    return unique_slug(
        slugify(title_or_slug), lambda s: slug_taken(s, excluding_post_id, visible_to)
    )


def set_categories(
    post: Post, names: list[str], editor: User | None = None, known: dict[str, Any] | None = None
) -> None:
    """Give `post` the categories of these names, created when missing (inside `writing()`).

    The editor's names were checked by validate(); an import's are taken as they come,
    cut to length (imports always may add categories). `known`: see resolve_names.
    """
    post.categories = taxonomy.resolve_names("category", _names(names, editor), editor, known)


def set_tags(
    post: Post, names: list[str], editor: User | None = None, known: dict[str, Any] | None = None
) -> None:
    """Give `post` the tags of these names, created when missing (inside `writing()`)."""
    post.tags = taxonomy.resolve_names("tag", _names(names, editor), editor, known)


def _names(names: list[str], editor: User | None) -> list[str]:
    return names if editor is not None else [taxonomy.import_name(name) for name in names]


@dataclass(frozen=True)
class RenderedPost:
    """What saving stores besides the source: computed before the write transaction."""

    body_html: str
    summary: str
    # What search indexes of the body: its text without tags.
    body_text: str
    reading_minutes: int

    @classmethod
    def from_body(cls, body_html: str, excerpt: str = "", feature_text: str = "") -> RenderedPost:
        """The rendering of a body rendered and sanitised already (render_body_within_budget)."""
        summary = excerpt or feature_text or first_paragraph_text(body_html)
        return cls(body_html, summary, html_to_text(body_html), reading_minutes(body_html))


def render_post(
    source: str, source_format: str, excerpt: str = "", feature_text: str = ""
) -> RenderedPost:
    """Render the body and summary now, on save, so serving a page never renders anything.

    Call it before `writing()`: it is the expensive part of a save. Raises RenderTooSlow
    when Markdown takes longer than its budget.
    """
    body_html = render_body_within_budget(source, source_format)
    return RenderedPost.from_body(body_html, excerpt, feature_text)


def save_post(
    post: Post,
    editor: User | None,
    rendered: RenderedPost,
    note: str = "",
    updated_at: datetime | None = None,
    fields: dict[str, Any] | None = None,
) -> Post:
    """Store the rendering, stamp and keep a revision of `post`, and bring its entry in the
    search index up to date, inside `writing()`."""
    # Not flushed before the flush below: each flush of a changed post bumps its version.
    with db.session.no_autoflush:
        media = _referenced_media(post.source, post.feature_image)
    # Stored images get their width and height here, where their rows are at hand.
    sizes = {item.sha256: (item.width, item.height) for item in media}
    post.body_html = sized_images(rendered.body_html, sizes)
    post.summary = rendered.summary
    post.reading_minutes = rendered.reading_minutes
    post.updated_at = updated_at or clock.now()
    post.media = media
    if post.id is None:
        db.session.add(post)
    db.session.flush()  # assigns the id and bumps `version`
    search.index_post(post, rendered.body_text)
    db.session.add(
        Revision(
            post_id=post.id,
            post_version=post.version,
            title=post.title,
            source=post.source,
            source_format=post.source_format,
            author_id=editor.id if editor else None,
            note=note,
            fields=fields or {},
        )
    )
    return post


def _referenced_media(*texts: str) -> list[Media]:
    hashes = {match for text in texts for match in _MEDIA_REFERENCE.findall(text or "")}
    if not hashes:
        return []
    return list(db.session.execute(select(Media).where(Media.sha256.in_(hashes))).scalars())


@dataclass(frozen=True)
class ListCursor:
    """A place in a list of posts, newest first: the (published_at, id) of a post shown.

    Lists page by cursor ("keyset pagination"): the next page is the posts after the last
    one shown, which an index finds directly, so the 10,000th page costs what the first
    does. In URLs it is `<microseconds since 1970>-<id>`.
    """

    published_at: datetime
    post_id: int

    @classmethod
    def of(cls, post: Post) -> ListCursor:
        assert post.published_at is not None  # listed posts have one
        return cls(post.published_at, post.id)

    @classmethod
    def parse(cls, text: str) -> ListCursor | None:
        """The cursor in `text`, or None if it is not one (typed by anyone: checked)."""
        moment, _, post_id = text.partition("-")
        if not (moment.isascii() and moment.isdigit() and len(moment) <= 17):
            return None
        if not (post_id.isascii() and post_id.isdigit() and len(post_id) <= 18):
            return None
        try:
            published_at = from_epoch_microseconds(int(moment))
        except OverflowError:
            return None
        return cls(published_at, int(post_id))

    def __str__(self) -> str:
        return f"{epoch_microseconds(self.published_at)}-{self.post_id}"


@dataclass
class PostPage:
    """One page of a list, newest first, and where the pages before and after it start."""

    posts: list[Post]
    # Older posts follow: the next page is `?before=<older>`.
    older: ListCursor | None
    # Newer posts precede: the previous page is `?after=<newer>` (None on the first page).
    newer: ListCursor | None

    @property
    def has_next(self) -> bool:
        return self.older is not None

    @property
    def has_prev(self) -> bool:
        return self.newer is not None


class Period(NamedTuple):
    """A span of publication times, [start, end): an archive's year or month, in UTC."""

    start: datetime
    end: datetime

    @property
    def last_moment(self) -> datetime:
        """The latest time in the period (times are stored to the microsecond)."""
        return self.end - timedelta(microseconds=1)

    @classmethod
    def of_month(cls, year: int, month: int, zone: ZoneInfo) -> Period | None:
        """The month as the site's clocks count it (a post at 23:30 on 31 July in Seoul is
        in July, though UTC says 14:30); None for a month no calendar has."""
        return cls._between(zone, (year, month), (year + month // 12, month % 12 + 1))

    @classmethod
    def of_year(cls, year: int, zone: ZoneInfo) -> Period | None:
        """The year in the site's time zone; None for one outside the calendar."""
        return cls._between(zone, (year, 1), (year + 1, 1))

    @classmethod
    def _between(
        cls, zone: ZoneInfo, first: tuple[int, int], after: tuple[int, int]
    ) -> Period | None:
        try:
            start, end = (datetime(year, month, 1, tzinfo=zone).astimezone(UTC)
                          for year, month in (first, after))  # fmt: skip
        except (ValueError, OverflowError):  # year 0 or 10000, or past UTC's year 1 or 9999
            return None
        return cls(start, end)


def _list_query(
    now: Any, category_id: Any = None, tag_id: Any = None, since: Any = None
) -> Select[Any]:
    """Listed posts as of `now`, of a category or tag (their ids) and published `since` a
    time, when given (values, or parameters bound later)."""
    query = select(Post).where(Post.listed(now))
    if since is not None:
        query = query.where(Post.published_at >= since)
    # EXISTS on the link tables themselves: cheaper to build than relationship.contains().
    if category_id is not None:
        query = query.where(
            exists().where(
                post_categories.c.post_id == Post.id, post_categories.c.category_id == category_id
            )
        )
    if tag_id is not None:
        query = query.where(
            exists().where(post_tags.c.post_id == Post.id, post_tags.c.tag_id == tag_id)
        )
    return query


def _order_key() -> Any:
    return tuple_(Post.published_at, Post.id)


@cache
def _list_statement(of_category: bool, of_tag: bool, of_period: bool, place: str) -> Select[Any]:
    """A list page's statement for one shape of list, built once (building one costs more
    than running it): `place` is "top", "before" (older than a cursor), "after" (just
    newer than one, read upwards) or "page" (an old ?page=N link). Values are bound per
    request: now, category_id, tag_id, since, cursor_at, cursor_id, offset, limit."""
    now = bindparam("now", type_=UTCDateTime())
    category_id = bindparam("category_id") if of_category else None
    tag_id = bindparam("tag_id") if of_tag else None
    since = bindparam("since", type_=UTCDateTime()) if of_period else None
    # Lists show neither source nor body: do not load them.
    query = _list_query(now, category_id, tag_id, since).options(
        defer(Post.source), defer(Post.body_html)
    )
    cursor = tuple_(bindparam("cursor_at", type_=UTCDateTime()), bindparam("cursor_id"))
    newest_first = (Post.published_at.desc(), Post.id.desc())
    if place == "after":
        return (
            query.where(_order_key() > cursor)
            .order_by(Post.published_at.asc(), Post.id.asc())
            .limit(bindparam("limit"))
        )
    if place == "before":
        query = query.where(_order_key() < cursor)
    elif place == "page":
        # An old `?page=N` link: the ids are counted off in the index (no row is read),
        # then only the page's rows are loaded.
        ids = (
            _list_query(now, category_id, tag_id, since)
            .with_only_columns(Post.id)
            .order_by(*newest_first)
            .offset(bindparam("offset"))
            .limit(bindparam("limit"))
            .correlate(None)  # its own `posts`, not the outer query's
        )
        query = query.where(Post.id.in_(ids.scalar_subquery()))
    return query.order_by(*newest_first).limit(bindparam("limit"))


@cache
def _categories_statement() -> Select[Any]:
    """The categories of a page of posts, by post: what selectinload would do, built once."""
    return (
        select(post_categories.c.post_id, Category)
        .join(Category, Category.id == post_categories.c.category_id)
        .where(post_categories.c.post_id.in_(bindparam("post_ids", expanding=True)))
        .order_by(Category.name)
    )


def _load_categories(posts: list[Post]) -> None:
    """Fill each post's `categories` in one query, as loaded from the database."""
    if not posts:
        return
    by_post: dict[int, list[Category]] = {post.id: [] for post in posts}
    rows = db.session.execute(_categories_statement(), {"post_ids": list(by_post)})
    for post_id, category in rows:
        by_post[post_id].append(category)
    for post in posts:
        set_committed_value(post, "categories", by_post[post.id])


def listed_posts(
    per_page: int,
    now: datetime,
    category: Category | None = None,
    tag: Tag | None = None,
    before: ListCursor | None = None,
    after: ListCursor | None = None,
    page: int = 1,
    period: Period | None = None,
) -> PostPage:
    """One page of public posts, newest first, optionally of one category, tag or period: those
    older than `before`, those just newer than `after`, or (old links) page number `page`.

    One query for the posts and one for their categories, however deep the page: the
    cursor is found through ix_posts_public_order, never by counting rows (OFFSET); the
    page number of an old link is counted in that index alone.
    """
    # One row more than a page tells whether there is a next page without a COUNT.
    values: dict[str, Any] = {"now": now, "limit": per_page + 1}
    if category is not None:
        values["category_id"] = category.id
    if tag is not None:
        values["tag_id"] = tag.id
    place = "after" if after is not None else "before" if before is not None else "top"
    if place == "top" and page > 1:
        place = "page"
        values["offset"] = (page - 1) * per_page
    if (cursor := after or before) is not None:
        values["cursor_at"], values["cursor_id"] = cursor.published_at, cursor.post_id
    # SQLite walks the index from one upper bound only: listed as of the cursor's time or
    # the period's end when that is earlier, the same posts, from where the list starts.
    if before is not None:
        values["now"] = min(values["now"], before.published_at)
    if period is not None:
        values["now"] = min(values["now"], period.last_moment)
        values["since"] = period.start
    statement = _list_statement(category is not None, tag is not None, period is not None, place)
    rows = list(db.session.execute(statement, values).scalars())
    if after is not None:
        # The page above: the posts just newer than `after`, read upwards, then turned.
        if len(rows) <= per_page:  # it reaches the top: that is the first page
            return listed_posts(per_page, now, category, tag, period=period)
        posts = rows[:per_page][::-1]
        _load_categories(posts)
        return PostPage(posts, older=ListCursor.of(posts[-1]), newer=ListCursor.of(posts[0]))
    posts = rows[:per_page]
    _load_categories(posts)
    older = ListCursor.of(posts[-1]) if len(rows) > per_page else None
    newer = ListCursor.of(posts[0]) if posts and (before is not None or page > 1) else None
    return PostPage(posts, older=older, newer=newer)


class ArchiveMonth(NamedTuple):
    year: int
    month: int
    posts: int


# Months counted one by one in SQL at most this far back from the newest; posts older
# still (an import's odd dates) are counted from their times, in Python.
ARCHIVE_MONTHS_IN_SQL = 1_200


def archive_months(now: datetime, zone: ZoneInfo) -> list[ArchiveMonth]:
    """Every month with listed posts, newest first, and how many, by the site's clocks.

    A database without the zone's rules (SQLite) cannot tell a UTC time's local month, and
    zones move by half and quarter hours, so the months' bounds are worked out here and
    the database counts between them: one statement of a count per month, each a range
    of ix_posts_public_order (no row is read), after one probe for the oldest post. The
    public pages keep the answer per change (changes.kept_per_change).
    """
    oldest = db.session.execute(
        select(Post.published_at).where(Post.listed(now)).order_by(Post.published_at).limit(1)
    ).scalar()
    if oldest is None:
        return []
    months = _months_between(oldest.astimezone(zone), now.astimezone(zone))
    counted = months[-ARCHIVE_MONTHS_IN_SQL:]
    periods = [Period.of_month(year, month, zone) for year, month in counted]
    first = next((period for period in periods if period is not None), None)
    counts = [_count_in(now, period) for period in periods]
    row = db.session.execute(select(*counts)).one() if counts else ()
    found = Counter({month: count for month, count in zip(counted, row, strict=True) if count})
    if len(counted) < len(months) and first is not None:
        for (published_at,) in db.session.execute(
            select(Post.published_at).where(
                Post.listed(now), Post.published_at < literal(first.start, UTCDateTime())
            )
        ):
            local = published_at.astimezone(zone)
            found[local.year, local.month] += 1
    return [ArchiveMonth(year, month, found[year, month])
            for year, month in sorted(found, reverse=True)]  # fmt: skip


def _months_between(first: datetime, last: datetime) -> list[tuple[int, int]]:
    """(year, month) from `first`'s month to `last`'s, oldest first."""
    months = range(first.year * 12 + first.month - 1, last.year * 12 + last.month)
    return [(index // 12, index % 12 + 1) for index in months]


def _count_in(now: datetime, period: Period | None) -> Any:
    if period is None:  # a month beyond the calendar's edge in UTC: nothing is there
        return literal(0)
    # Its end as the count's `now`: SQLite walks the index from one upper bound only.
    return (
        _list_query(min(now, period.last_moment), since=literal(period.start, UTCDateTime()))
        .with_only_columns(func.count(), maintain_column_froms=True)
        .scalar_subquery()
    )


def names_a_listed_post(cursor: ListCursor, now: datetime) -> bool:
    """Whether `cursor` is the place of a post in the lists now (one primary-key probe)."""
    return (
        db.session.execute(
            select(Post.id).where(
                Post.id == cursor.post_id,
                Post.published_at == literal(cursor.published_at, UTCDateTime()),
                Post.listed(now),
            )
        ).first()
        is not None
    )


class Neighbour(NamedTuple):
    """A post next to another in the list: what a previous/next link shows."""

    title: str
    slug: str


@dataclass
class ArticlePage:
    """What an article page shows: the post (with its categories, tags and author), the
    listed posts on either side of it, and posts on the same subjects."""

    post: Post
    older: Neighbour | None
    newer: Neighbour | None
    related: list[Neighbour] = field(default_factory=list)


@cache
def _article_query() -> Select[Any]:
    """The article's statement, built once (aliases are costly to build per request):
    the post at :slug, reachable at :now, with its author, and the title and slug of the
    listed posts just older and newer as correlated subqueries, each one step along
    ix_posts_public_order."""
    now = bindparam("now", type_=UTCDateTime())
    neighbours = []
    for side, before in (("older", True), ("newer", False)):
        other = aliased(Post, name=f"{side}_post")
        here = tuple_(Post.published_at, Post.id)
        there = tuple_(other.published_at, other.id)
        order = (other.published_at.desc(), other.id.desc()) if before else (
            other.published_at.asc(), other.id.asc())  # fmt: skip
        for name in ("title", "slug"):
            neighbours.append(
                select(getattr(other, name))
                .where(other.listed(now), there < here if before else there > here)
                .order_by(*order)
                .limit(1)
                .scalar_subquery()
                .label(f"{side}_{name}")
            )
    return (
        select(Post, *neighbours)
        .where(Post.slug == bindparam("slug"), Post.reachable(now))
        .options(
            defer(Post.source),  # the page shows the rendering, not the source
            joinedload(Post.author).load_only(*BYLINE_COLUMNS),
            # Not joined: SQLite reads a many-to-many join of every post before the one.
            selectinload(Post.categories),
            selectinload(Post.tags),
        )
    )


def article_page(slug: str, now: datetime) -> ArticlePage | None:
    """The article at `slug` if a reader may see it (listed or unlisted), in three queries,
    the post with its author and neighbours, its categories, its tags, and a fourth for
    its related posts when it has tags."""
    row = db.session.execute(_article_query(), {"slug": slug, "now": now}).unique().one_or_none()
    if row is None:
        return None
    post = row[0]
    related = related_posts(post, now)
    if post.status == PostStatus.UNLISTED:  # not in any list: no previous or next
        return ArticlePage(post, None, None, related)
    older = Neighbour(row.older_title, row.older_slug) if row.older_slug else None
    newer = Neighbour(row.newer_title, row.newer_slug) if row.newer_slug else None
    return ArticlePage(post, older, newer, related)


RELATED_POSTS = 4
# Related posts are looked for among the newest links to the post's tags (by post id, the
# order posts were created in), so a tag on 30,000 posts costs what one on 2,000 does.
RELATED_CANDIDATE_LINKS = 2_000
RELATED_TAGS_READ = 100


def related_posts(post: Post, now: datetime, most: int = RELATED_POSTS) -> list[Neighbour]:
    """Listed posts sharing tags with `post` (tags loaded), those sharing the most tags
    first, then the newest: one query, none for a post without tags."""
    # SQLite allows 500 selects in a UNION; a post has a handful of tags.
    tag_ids = [tag.id for tag in post.tags][:RELATED_TAGS_READ]
    if not tag_ids:
        return []
    # The newest links of each tag, straight along ix_post_tags_tag (no sort), at most
    # RELATED_CANDIDATE_LINKS in all: a tag on every post costs what a rare one does.
    per_tag = max(1, RELATED_CANDIDATE_LINKS // len(tag_ids))
    links = union_all(
        *(
            select(
                select(post_tags.c.post_id)
                .where(post_tags.c.tag_id == tag_id, post_tags.c.post_id != post.id)
                .order_by(post_tags.c.post_id.desc())
                .limit(per_tag)
                .subquery()
            )
            for tag_id in tag_ids
        )
    ).subquery()
    shared = (
        select(links.c.post_id, func.count().label("tags")).group_by(links.c.post_id).subquery()
    )
    rows = db.session.execute(
        select(Post.title, Post.slug)
        .join(shared, shared.c.post_id == Post.id)
        .where(Post.listed(now))
        .order_by(shared.c.tags.desc(), Post.published_at.desc(), Post.id.desc())
        .limit(most)
    )
    return [Neighbour(title, slug) for title, slug in rows]


@dataclass
class RerenderReport:
    """What `rerender_posts` did: posts rendered again, and those whose source failed."""

    rendered: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (slug, reason)


RERENDER_BATCH = 100


def rerender_posts(
    everything: bool = False, progress: Callable[[int, int], None] | None = None
) -> RerenderReport:
    """Render posts again from their source with today's renderer (code highlighting,
    tables of contents, reading time): those never counted (reading_minutes is NULL), or
    with `everything`, all of them.

    Not a save: no revision, no new version, so an editor's open form stays valid; a post
    saved while its batch was rendering is left as that save made it (the version must
    still be the one read). A post whose Markdown fails to render keeps its old body and
    gets its reading time from it, so it is not tried at every `blog init`.
    """
    query = select(Post.id).order_by(Post.id)
    if not everything:
        query = query.where(Post.reading_minutes.is_(None))
    ids = list(db.session.execute(query).scalars())
    report = RerenderReport()
    posts = Post.__table__
    for start in range(0, len(ids), RERENDER_BATCH):
        columns = (Post.id, Post.slug, Post.version, Post.source, Post.source_format,
                   Post.excerpt, Post.feature_text, Post.body_html)  # fmt: skip
        rows = db.session.execute(
            select(*columns).where(Post.id.in_(ids[start : start + RERENDER_BATCH]))
        ).all()
        changes = []
        for row in rows:
            try:
                rendered = render_post(row.source, row.source_format, row.excerpt, row.feature_text)
            except RenderFailed as error:
                report.failed.append((row.slug, str(error)))
                rendered = RenderedPost.from_body(row.body_html, row.excerpt, row.feature_text)
            else:
                report.rendered += 1
            changes.append({"post_id": row.id, "seen_version": row.version,
                            "new_body": rendered.body_html, "new_summary": rendered.summary,
                            "new_minutes": rendered.reading_minutes})  # fmt: skip
        with writing():
            db.session.execute(
                update(posts)
                .where(posts.c.id == bindparam("post_id"))
                .where(posts.c.version == bindparam("seen_version"))
                .values(
                    body_html=bindparam("new_body"),
                    summary=bindparam("new_summary"),
                    reading_minutes=bindparam("new_minutes"),
                ),
                changes,
            )
        if progress is not None:
            progress(min(start + RERENDER_BATCH, len(ids)), len(ids))
    return report
